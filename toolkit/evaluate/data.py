"""The labelled images `cnnkit eval` scores: one split of a training source, or a list file.

SOURCE is what `train --data` takes (digits, digit-scenes, folder:PATH, voc:PATH) or a
.csv / .jsonl of path,label. Images are decoded and resized exactly as training reads
them (toolkit.data: the runtime's own conversion and resize; label maps NEAREST), at the
input size of the model that is scored, so eval and `train` report the same figures for
the same split. An unreadable file is listed and stays in the denominator: its target
is counted as `missed` (no prediction), never dropped.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.data.folders import (
    UNREADABLE,
    class_folders,
    folder_files,
    labelled_files,
    voc_sample,
    voc_split,
)
from toolkit.data.images import SPLITS, mask_to_hw, to_hwc
from toolkit.data.labelmap import decode_mask
from toolkit.data.sources import parse_source, split_arrays
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.masks import IGNORE
from toolkit.runtime.preprocess import open_image

LIST_SUFFIXES = (".csv", ".jsonl")
EVAL_SPLITS = (*SPLITS, "all")


@dataclass(frozen=True)
class EvalData:
    """What to score on: `--data SOURCE --split NAME --seed N` (the seed train split with)."""

    source: str
    split: str = "test"
    seed: int = 0

    @property
    def is_list(self) -> bool:
        """True for a .csv / .jsonl of path,label."""
        return Path(self.source).suffix.lower() in LIST_SUFFIXES

    @property
    def task(self) -> str:
        """classification or segmentation."""
        return "classification" if self.is_list else parse_source(self.source).task


@dataclass
class Split:
    """The samples of one split at one input size; unreadable ones listed with their targets."""

    task: str
    classes: list[str]
    keys: list[str]  # readable samples: file paths, or SOURCE:SPLIT#INDEX for built-in data
    images: np.ndarray  # uint8 (N, H, W, C)
    targets: np.ndarray  # int64 (N,) class indices, or uint8 (N, H, W) label maps
    unreadable: list[dict] = field(default_factory=list)  # {"path", "error"}
    missed: np.ndarray | None = None  # per data class: samples (pixels) without a prediction

    @property
    def samples(self) -> int:
        """Every sample of the split, unreadable ones included."""
        return len(self.keys) + len(self.unreadable)


def labelled_files_of(data: EvalData) -> tuple[list[Path], np.ndarray, list[str]]:
    """(files, class indices, classes) of a file-based classification source."""
    if data.is_list:
        return read_list(Path(data.source))
    parsed = parse_source(data.source)
    if parsed.kind != "folder":
        raise CnnkitError(
            f"--data {data.source}: not a source of files; give folder:PATH or a .csv/.jsonl list"
        )
    if data.split == "all":
        root = Path(parsed.path).expanduser()
        classes = [p.name for p in class_folders(root, data.source)]
        files, targets = labelled_files(root, classes)
        return files, targets, classes
    if not (Path(parsed.path).expanduser() / "train").is_dir():
        note(
            f"note: {data.source}: no train/ folder; scoring the seeded 15% {data.split} split "
            f"(seed {data.seed}) as train does; --split all scores every image"
        )
    return folder_files(parsed.path, data.split, data.seed)


def load_split(data: EvalData, size: tuple[int, int, int]) -> Split:
    """The samples of `data` at input size (C, H, W)."""
    if data.split not in EVAL_SPLITS:
        raise CnnkitError(f"--split {data.split!r}: expected one of {', '.join(EVAL_SPLITS)}")
    if data.is_list:
        return classified_files(*labelled_files_of(data), size, data.source)
    parsed = parse_source(data.source)
    if parsed.kind == "folder":
        return classified_files(*labelled_files_of(data), size, data.source)
    if parsed.kind == "voc":
        return voc_samples(data, parsed.path, size)
    if data.split == "all":
        raise CnnkitError(f"--split all: {data.source} has fixed train/val/test splits; pick one")
    images, targets, classes = split_arrays(data.source, data.split, size, data.seed)
    keys = [f"{data.source}:{data.split}#{i}" for i in range(len(images))]
    return Split(parsed.task, list(classes), keys, np.asarray(images), np.asarray(targets))


def classified_files(
    files: list[Path], targets: np.ndarray, classes: list[str], size, label: str
) -> Split:
    """Decode labelled files at `size`; unreadable ones listed, their targets counted as missed."""
    images, keys, kept, unreadable = [], [], [], []
    missed = np.zeros(len(classes), np.int64)
    for i, path in enumerate(files):
        try:
            images.append(to_hwc(open_image(path), size))
        except UNREADABLE as exc:
            unreadable.append({"path": str(path), "error": getattr(exc, "reason", str(exc))})
            missed[targets[i]] += 1
            continue
        keys.append(str(path))
        kept.append(i)
    c, h, w = size
    stacked = np.stack(images) if images else np.zeros((0, h, w, c), np.uint8)
    split = Split("classification", classes, keys, stacked, targets[kept], unreadable, missed)
    if not split.samples:
        raise CnnkitError(f"--data {label}: no images to score")
    return split


def voc_samples(data: EvalData, path: str, size) -> Split:
    """A VOC-style split at `size`; an unreadable image's mask pixels are counted as missed."""
    pairs, labels, classes = voc_split(path, data.split, data.seed)
    images, masks, keys, unreadable = [], [], [], []
    missed = np.zeros(len(classes), np.int64)
    for image_path, mask_path in pairs:
        try:
            image, mask = voc_sample(image_path, mask_path, labels, size)
        except UNREADABLE as exc:
            unreadable.append({"path": str(image_path), "error": getattr(exc, "reason", str(exc))})
            missed += pixels_of(mask_path, labels, size, len(classes))
            continue
        images.append(image)
        masks.append(mask)
        keys.append(str(image_path))
    if not pairs:
        raise CnnkitError(f"--data {data.source}: no image/mask pairs in the {data.split} split")
    c, h, w = size
    return Split(
        "segmentation",
        classes,
        keys,
        np.stack(images) if images else np.zeros((0, h, w, c), np.uint8),
        np.stack(masks) if masks else np.zeros((0, h, w), np.uint8),
        unreadable,
        missed,
    )


def pixels_of(mask_path: Path, labels, size, count: int) -> np.ndarray:
    """Pixels per class of a mask at `size` (zeros when the mask itself is unreadable)."""
    try:
        mask = mask_to_hw(decode_mask(open_image(mask_path), labels, mask_path), size)
    except UNREADABLE:
        return np.zeros(count, np.int64)
    return np.bincount(mask[mask != IGNORE].ravel(), minlength=count)[:count]


def read_list(path: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """A .csv (path,label; a header row is optional) or .jsonl ({"path", "label"}) list.

    Relative paths are taken from the list's folder; classes are the labels, sorted.
    """
    if not path.is_file():
        raise CnnkitError(f"--data {path}: no such file")
    pairs = read_jsonl_pairs(path) if path.suffix.lower() == ".jsonl" else read_csv_pairs(path)
    if not pairs:
        raise CnnkitError(f"--data {path}: lists no images")
    classes = sorted({label for _, label in pairs})
    index = {name: k for k, name in enumerate(classes)}
    files = [p if Path(p).is_absolute() else path.parent / p for p, _ in pairs]
    return [Path(f) for f in files], np.asarray([index[label] for _, label in pairs]), classes


def read_csv_pairs(path: Path) -> list[tuple[str, str]]:
    """(path, label) rows of a CSV file; a first row reading path,label is a header."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["path", "label"]:
        rows = rows[1:]
    for number, row in enumerate(rows, 1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise CnnkitError(f"--data {path}: row {number} is not path,label")
    return [(row[0].strip(), row[1].strip()) for row in rows]


def read_jsonl_pairs(path: Path) -> list[tuple[str, str]]:
    """(path, label) of every {"path", "label"} line of a JSONL file."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append((str(row["path"]), str(row["label"])))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CnnkitError(f'--data {path}:{number}: expected {{"path", "label"}}') from None
    return pairs
