"""Writing output files safely: strict JSON, no planted links, umask modes, folder locks.

Every file cnnkit writes goes through a temp file in the same folder and `os.replace`, so a
link planted at the target is replaced, never followed, and a kill never leaves half a
file. Temp files are created 0600 by `mkstemp`; they are given the mode a plain `open`
would have (0666 less the umask) before they are published, so a shared --out stays
readable by the other users and machines that read it (the Ray engine's workers).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import portalocker

from toolkit.errors import CnnkitError

# Lone surrogates are how Python holds file-name bytes that are not UTF-8 (os.fsdecode).
SURROGATES = re.compile("[\ud800-\udfff]")


def file_mode() -> int:
    """0666 less the process umask: what `open(path, "w")` would create."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def folder_mode() -> int:
    """0777 less the process umask: what `mkdir` would create."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def finite(data):
    """`data` with every NaN or infinite float replaced by None (JSON null)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(value) for value in data]
    return data


def json_text(data, **kwargs) -> str:
    """Strict JSON (no NaN/Infinity tokens): non-finite floats become null."""
    return json.dumps(finite(data), allow_nan=False, **kwargs)


def json_line(row: dict) -> str:
    """One strict-JSON line, valid UTF-8 even for paths holding non-UTF-8 bytes.

    Such bytes reach Python as lone surrogates U+DC80..U+DCFF (os.fsdecode); they are
    written as the JSON escapes \\udc80..\\udcff, which json.loads reads back to the same
    string, so `os.fsencode(row["path"])` gives the file name's exact bytes.
    """
    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    return SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def refuse_link(path: Path, what: str = "output") -> None:
    """CnnkitError when `path` is a symbolic link: cnnkit never writes through one."""
    if path.is_symlink():
        raise CnnkitError(f"{path} is a link; refusing to write the {what} through it")


def output_folder(path: Path) -> Path:
    """Create (or reuse) a folder cnnkit writes into; never one reached through a planted link."""
    refuse_link(path, "folder's files")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file through a temp file and os.replace: links at `path` are replaced."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(tmp: str | Path, path: Path) -> None:
    """Give a temp file the umask's mode and move it into place atomically."""
    os.chmod(tmp, file_mode())
    os.replace(tmp, path)


def write_json(path: Path, data, indent: int | None = 2) -> None:
    """Strict JSON written atomically (never through a link)."""
    write_atomic(path, json_text(data, indent=indent) + "\n")


class FolderLock:
    """An exclusive lock on an output folder for one run; a second run gets a CnnkitError.

    The lock is an OS lock (flock, through portalocker) on the folder itself: no lock file
    is left behind or could be planted as a link, and the kernel releases it when the
    process dies, so a kill -9 never leaves a folder locked.
    """

    def __init__(self, folder: Path, what: str = "--out"):
        self.folder = Path(folder)
        self.what = what
        self.fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            raise CnnkitError(
                f"{self.what} {self.folder}: cannot lock it ({exc.strerror})"
            ) from None
        try:
            portalocker.lock(fd, portalocker.LOCK_EX | portalocker.LOCK_NB)
        except portalocker.exceptions.LockException:
            os.close(fd)
            raise CnnkitError(
                f"{self.what} {self.folder}: another cnnkit run is writing there; "
                "wait for it to finish or choose another folder"
            ) from None
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            portalocker.unlock(self.fd)
            os.close(self.fd)
            self.fd = None


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def staging_folder(parent: Path, prefix: str) -> Path:
    """A private temp folder `<prefix><pid>.XXXX` in `parent`; ones left by dead runs go first.

    A run killed with -9 cannot remove its staging folder; the pid in the name lets the next
    run see that its owner is gone and remove it, while a live run's folder is left alone.
    """
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    for entry in Path(parent).glob(f"{glob.escape(prefix)}*"):
        found = pattern.match(entry.name)
        stale = found and entry.is_dir() and not entry.is_symlink()
        if stale and not pid_alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}.", dir=parent))
