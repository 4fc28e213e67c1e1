"""results.jsonl: appended and flushed per batch, repaired and re-read on --resume."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

from toolkit.errors import CnnkitError

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


def read_rows(path: Path) -> list[dict]:
    """Every row of a results file; CnnkitError naming the line when one is not JSON."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise CnnkitError(f"{path}:{number}: not a JSON line; cannot resume") from None
    return rows


def row_line(row: dict) -> str:
    """One results.jsonl line."""
    return json.dumps(row, ensure_ascii=False) + "\n"


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


def write_csv(rows: list[dict], path: Path) -> None:
    """results.csv: path, status, label, score, error (top-k stays in the JSON lines).

    Written to a temp file and moved into place, so a link planted at `path` is replaced
    rather than followed.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in CSV_COLUMNS])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
