"""Consoles for tables: the terminal's width on a terminal, full width anywhere else.

Off a terminal rich assumes 80 columns and cuts cells to "2.93e-…": a table piped to
`cat`, written to a file or read in a CI log then loses the digits it exists to show.
rich shrinks a table to its content, so a wide console only stops the cutting.
"""

from __future__ import annotations

import sys

from rich.console import Console

FULL_WIDTH = 1000


def table_console(stderr: bool = False, terminal_min: int = 0) -> Console:
    """A Console for tables on stdout (or stderr): never cuts a cell off a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else FULL_WIDTH)
    if console.is_terminal and console.width < terminal_min:
        console.width = terminal_min
    return console
