"""Turning INPUTS into a list of items: files, folders (recursive), globs, list files, .npy."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.progress import note

LIST_SUFFIXES = (".txt", ".lst", ".list")
NPY_SUFFIX = ".npy"
# One .npy file may stack at most this many inputs: a few MB of tiny arrays would otherwise
# become millions of items (and rows) held in memory before the first batch runs.
MAX_STACK = 100_000


@dataclass(frozen=True, slots=True)
class InputItem:
    """One input: an image file, or one array of an .npy file."""

    key: str  # how results.jsonl names it: the path, or "stack.npy#3" for one array
    path: Path
    index: int | None = None  # position in an .npy stack; None for a file of one input


def image_extensions() -> set[str]:
    """Every file extension Pillow can open, lower case with the dot."""
    Image.init()
    return {ext.lower() for ext in Image.registered_extensions()}


def is_glob(text: str) -> bool:
    """True when the text holds glob magic."""
    return any(ch in text for ch in "*?[")


def npy_count(array: np.ndarray) -> int | None:
    """How many inputs an .npy array stacks; None when it is a single input.

    uint8 arrays are pixels: (H, W), (H, W, C) one image; (N, H, W), (N, H, W, C) a stack.
    Float arrays are model tensors: (C, H, W) one; (N, C, H, W) a stack.
    """
    if array.dtype == np.uint8:
        single = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))
    else:
        single = array.ndim == 3
    if single:
        return None
    if array.ndim not in (3, 4):
        raise CnnkitError(f"array of shape {array.shape} is neither one input nor a stack")
    return array.shape[0]


def npy_items(path: Path) -> list[InputItem]:
    """The items of one .npy file; a file that is not a usable stack is one item.

    That one item fails to decode with the reason, so a truncated, object, 0-d or 5-D
    array is one error row like an unreadable image, not the end of the run.
    """
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        count = npy_count(array) if isinstance(array, np.ndarray) else None
    except (OSError, ValueError, EOFError, CnnkitError):
        count = None
    if count is None or count > MAX_STACK or count == 0:
        return [InputItem(os.fsdecode(path), path)]
    return [InputItem(f"{os.fsdecode(path)}#{i}", path, i) for i in range(count)]


def image_files(folder: str | Path) -> list[Path]:
    """The files under `folder` Pillow can open by their extension (the one rule cnnkit uses)."""
    return folder_files(Path(folder), image_extensions())


def folder_files(folder: Path, extensions: set[str]) -> list[Path]:
    """Files with these extensions under a folder, recursively, sorted; symlinked folders not
    followed."""
    found = []

    def unreadable(exc: OSError) -> None:
        note(f"note: {exc.filename}: skipped, cannot list it ({exc.strerror})")

    for root, dirs, files in os.walk(folder, onerror=unreadable):
        dirs.sort()
        for name in sorted(files):
            if Path(name).suffix.lower() in extensions:
                found.append(Path(root) / name)
    return found


def list_file_paths(path: Path) -> list[Path]:
    """Paths listed one per line ('#' comments, blanks skipped), relative to the list file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CnnkitError(f"{path}: cannot read the list file ({exc})") from None
    entries = [line.strip() for line in lines]
    return [path.parent / e for e in entries if e and not e.startswith("#")]


def expand_one(text: str, extensions: set[str]) -> list[Path]:
    """The paths one INPUTS argument stands for."""
    path = Path(text)
    if path.is_dir():
        return folder_files(path, extensions | {NPY_SUFFIX})
    if path.suffix.lower() in LIST_SUFFIXES and path.is_file():
        return list_file_paths(path)
    if path.exists() or path.is_symlink():
        return [path]
    if is_glob(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise CnnkitError(f"input {text!r}: the pattern matches nothing")
        return [Path(m) for m in matches if not Path(m).is_dir()]
    raise CnnkitError(f"input {text!r}: no such file or folder")


def expand_inputs(inputs) -> list[InputItem]:
    """Every input item, in order, each once; CnnkitError when there is none."""
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    extensions = image_extensions()
    items: list[InputItem] = []
    seen: set[str] = set()
    duplicates = 0
    for text in inputs:
        for path in expand_one(str(text), extensions):
            is_npy = path.suffix.lower() == NPY_SUFFIX and path.is_file()
            for item in npy_items(path) if is_npy else [InputItem(str(path), path)]:
                if item.key in seen:
                    duplicates += 1
                    continue
                seen.add(item.key)
                items.append(item)
    if duplicates:
        note(f"note: {duplicates} input(s) named more than once; each runs once")
    if not items:
        raise CnnkitError(f"no inputs found in {' '.join(map(str, inputs))}")
    return items
