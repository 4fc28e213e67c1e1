"""Tables printed off a terminal keep every cell whole (a pipe, a file, a CI log)."""

from __future__ import annotations

import contextlib
import io

from rich.table import Table

from toolkit.tables import table_console


def wide_table() -> Table:
    table = Table(title="parity")
    for column in ("output", "max |diff|", "cosine", "note"):
        table.add_column(column)
    table.add_row("logits", "2.9337861e-06", "0.99999994", "x" * 150)
    return table


def test_a_table_on_a_pipe_is_never_cut():
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        table_console().print(wide_table())
    text = sink.getvalue()
    assert "2.9337861e-06" in text and "x" * 150 in text
    assert "…" not in text


def test_a_table_on_stderr_off_a_terminal_is_never_cut():
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink):
        table_console(stderr=True).print(wide_table())
    assert "x" * 150 in sink.getvalue()
