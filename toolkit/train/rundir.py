"""The run folder: runs/<name>/ with config.json, metrics.jsonl, results.json, checkpoints."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runfolder import RunFolder
from toolkit.safeio import FolderLock, json_text, output_folder, write_atomic


def default_name(model: str, data: str) -> str:
    """`<model>-<data>` with anything but letters, digits, - and _ replaced."""
    stem = Path(data.split(":", 1)[-1]).name if ":" in data else data
    return re.sub(r"[^A-Za-z0-9_-]+", "-", f"{model}-{stem}").strip("-")


def choose_run_dir(runs_dir: str, name: str | None, model: str, data: str, exist_ok: bool) -> Path:
    """The folder this run writes to; never an existing one unless `exist_ok`.

    A generated name gets -2, -3, ... until it is free; a given name that exists is an
    error without exist_ok.
    """
    parent = Path(runs_dir)
    if name is None:
        base = default_name(model, data)
        path, n = parent / base, 1
        while path.exists():
            n += 1
            path = parent / f"{base}-{n}"
        return path
    if "/" in name or name in ("", ".", ".."):
        raise CnnkitError(
            f"--name {name!r}: give a plain folder name (use --runs-dir for the parent)"
        )
    path = parent / name
    if path.exists() and not exist_ok:
        raise CnnkitError(
            f"{path} already exists; pass --exist-ok to overwrite it or --resume {path} to continue"
        )
    return path


def prepare(path: Path) -> None:
    """Create the folder; when reusing one, remove the files an earlier run left."""
    path.mkdir(parents=True, exist_ok=True)
    stale = [name for name in RunFolder.TRAIN_FILES if (path / name).exists()]
    for name in stale:
        (path / name).unlink()
    if stale:
        note(f"{path}: overwrote the earlier run ({', '.join(stale)})")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[Path]:
    """Hold the run folder for this run; a second run on it gets a CnnkitError.

    A folder this run created that holds no epoch (metrics or checkpoint) when it fails is
    removed, so a
    run refused or failed before its first epoch does not block the name.
    """
    created = not path.exists()
    output_folder(path)
    try:
        with FolderLock(path, "run folder"):
            yield path
    except BaseException:
        if created and not RunFolder(path).has_epochs():
            shutil.rmtree(path, ignore_errors=True)
        raise


def write_json(path: Path, data: dict) -> None:
    """Strict JSON (NaN as null) written atomically, never through a planted link."""
    write_atomic(path, json_text(data, indent=2) + "\n")


def read_json(path: Path) -> dict:
    """Read a JSON file of the run folder; a CnnkitError naming it when broken."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CnnkitError(f"{path}: missing (is {path.parent} a cnnkit run folder?)") from None
    except json.JSONDecodeError as exc:
        raise CnnkitError(f"{path}: not valid JSON ({exc})") from None


def append_metrics(path: Path, row: dict) -> None:
    """Append one epoch's row to metrics.jsonl (flushed and synced)."""
    with open(RunFolder(path).metrics, "a") as handle:
        handle.write(json_text(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_metrics(path: Path) -> list[dict]:
    """Every complete row of metrics.jsonl (a torn last line, from a kill, is dropped)."""
    file = RunFolder(path).metrics
    if not file.exists():
        return []
    rows = []
    for line in file.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def keep_metrics_until(path: Path, epoch: int) -> list[dict]:
    """Rewrite metrics.jsonl with the rows of epochs <= `epoch` (resume drops the rest)."""
    rows = [row for row in read_metrics(path) if row.get("epoch", 0) <= epoch]
    write_atomic(RunFolder(path).metrics, "".join(json_text(row) + "\n" for row in rows))
    return rows
