"""Progress bars on stderr: shown only on a terminal and never with --quiet (torch-free)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

stderr = Console(stderr=True, highlight=False)


def enabled(quiet: bool = False) -> bool:
    """True when progress should be drawn: stderr is a terminal and the user did not ask quiet."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(quiet: bool = False) -> Iterator[Progress]:
    """A rich Progress on stderr, disabled (a no-op) when `enabled()` is false."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        disable=not enabled(quiet),
        transient=False,
    )
    with bar:
        yield bar


def note(message: str) -> None:
    """One informational line on stderr (announced defaults, fallbacks, warnings)."""
    print(message, file=sys.stderr, flush=True)
