"""results.jsonl: appended and flushed per batch, repaired and re-read on --resume.

Each line is strict JSON in UTF-8 (no NaN tokens). A path holding bytes that are not
UTF-8 keeps them as the escapes \\udc80..\\udcff (Python's surrogateescape), so
`os.fsencode(row["path"])` is the file name's exact bytes; see toolkit.safeio.json_line.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.safeio import json_line, publish

RESULTS = "results.jsonl"
CSV_COLUMNS = ("path", "status", "label", "score", "error")


def repair(path: Path) -> int:
    """Cut a partial last line (a write killed mid-way); returns the bytes removed."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep == len(data):
        return 0
    with path.open("r+b") as handle:
        handle.truncate(keep)
    return len(data) - keep


def iter_rows(path: Path) -> Iterator[dict]:
    """The rows of a results file one at a time; CnnkitError naming a line that is not JSON."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                raise CnnkitError(f"{path}:{number}: not a JSON line; cannot resume") from None


def read_rows(path: Path) -> list[dict]:
    """Every row of a results file; CnnkitError naming the line when one is not JSON."""
    return list(iter_rows(path))


def row_line(row: dict) -> str:
    """One results.jsonl line (strict JSON; non-UTF-8 path bytes escaped reversibly)."""
    return json_line(row)


class ResultsWriter:
    """Appends rows to results.jsonl and flushes after every batch, so a kill loses none."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = path.open("a", encoding="utf-8")

    def write(self, rows: list[dict]) -> None:
        """Append one batch of rows and flush them to the OS."""
        self.handle.write("".join(row_line(row) for row in rows))
        self.handle.flush()

    def close(self) -> None:
        """Close the file."""
        self.handle.close()


def shown_path(path: str) -> str:
    """A path for people: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def write_csv(rows: Iterable[dict], path: Path) -> None:
    """results.csv: path, status, label, score, error (top-k stays in the JSON lines).

    Written to a temp file and moved into place, so a link planted at `path` is replaced
    rather than followed. Path bytes that are not UTF-8 show as \\xNN (the exact bytes
    are in results.jsonl).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in rows:
                values = {**row, "path": shown_path(row["path"])}
                writer.writerow(["" if values.get(c) is None else values[c] for c in CSV_COLUMNS])
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
