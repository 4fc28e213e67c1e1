"""Status lines on stderr for slow steps, and silencing of chatty third-party tools.

`captured_chatter` lives in toolkit.chatter (the runtime uses it too, below export); export
modules import it from here with the rest.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

from rich.console import Console

from toolkit import progress
from toolkit.chatter import captured_chatter

__all__ = ["captured_chatter", "silenced_fds", "status"]


@contextlib.contextmanager
def status(message: str, quiet: bool = False) -> Iterator[None]:
    """A transient spinner line on stderr while a step runs (only on a terminal, not quiet)."""
    if not progress.enabled(quiet):
        yield
        return
    # Bound to the real stream now: `captured_chatter` swaps sys.stderr while the step runs.
    console = Console(file=sys.stderr, highlight=False)
    with console.status(message):
        yield


@contextlib.contextmanager
def silenced_fds() -> Iterator[None]:
    """Send C-level writes to fds 1 and 2 to a scratch file (the TorchScript exporter's
    C++ logger prints whole IR graphs to stderr on failure, past Python's redirection)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
