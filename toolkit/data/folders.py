"""Image folders on disk: `folder:PATH` (one sub-folder per class) and `voc:PATH` (masks)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from toolkit.data.images import SPLITS, mask_to_hw, split_indices, stratified_indices, to_hwc
from toolkit.data.labelmap import LabelMap, decode_mask, read_labelmap, with_names
from toolkit.errors import CnnkitError
from toolkit.progress import note
from toolkit.runtime.preprocess import ImageError, open_image

VOC_CLASSES = [
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
]
UNREADABLE = (ImageError, ValueError)  # undecodable files; masks of the wrong mode


def visible_files(folder: Path) -> list[Path]:
    """Regular, non-hidden files of `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def class_folders(root: Path, label: str) -> list[Path]:
    """The class sub-folders of `root`; a CnnkitError when there are fewer than two."""
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise CnnkitError(
            f"{label}: expected one sub-folder per class (at least 2), found {len(folders)}"
        )
    return folders


def report_skipped(label: str, skipped: list[str]) -> None:
    """Announce unreadable files: their count and the first few names."""
    if skipped:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        note(f"{label}: skipped {len(skipped)} unreadable file(s): {shown}")


def existing_root(path: str, scheme: str) -> Path:
    """The folder behind `scheme:path`; a CnnkitError when it is missing."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise CnnkitError(f"--data {scheme}:{path}: no such folder")
    return root


def folder_arrays(
    path: str, split: str, size: tuple[int, int, int], seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """ImageFolder layout -> (images NHWC uint8, int64 targets, classes) for one split."""
    label = f"folder:{path}"
    files, targets, classes = folder_files(path, split, seed)
    images, kept, skipped = read_images(files, size)
    report_skipped(label, skipped)
    if not kept:
        raise CnnkitError(f"{label}: no readable images in the {split} split")
    return images, targets[kept], classes


def folder_files(path: str, split: str, seed: int) -> tuple[list[Path], np.ndarray, list[str]]:
    """The files of one split of an ImageFolder layout, their class indices, and the classes.

    PATH/<class>/* is split 70/15/15 with `seed`, class by class; PATH/train/<class>/*
    (with val/ and optionally test/) uses the given splits, test falling back to val.
    """
    root = existing_root(path, "folder")
    label = f"folder:{path}"
    if (root / "train").is_dir():
        part = split if (root / split).is_dir() else "val"
        if part != split:
            note(f"{label}: no {split}/ folder, using val/ for the {split} split")
        if not (root / part).is_dir():
            raise CnnkitError(f"{label}: has train/ but no {part}/ folder")
        classes = [p.name for p in class_folders(root / "train", f"{label}/train")]
        files, targets = labelled_files(root / part, classes)
        return files, targets, classes
    classes = [p.name for p in class_folders(root, label)]
    files, targets = labelled_files(root, classes)
    index = stratified_indices(targets, split, seed)
    return [files[i] for i in index], targets[index], classes


def labelled_files(root: Path, classes: list[str]) -> tuple[list[Path], np.ndarray]:
    """Every file under root/<class>/ with its class index."""
    files, targets = [], []
    for index, name in enumerate(classes):
        folder = root / name
        found = visible_files(folder) if folder.is_dir() else []
        files += found
        targets += [index] * len(found)
    if not files:
        raise CnnkitError(f"{root}: the class folders hold no files")
    return files, np.asarray(targets, np.int64)


def read_images(
    files: list[Path], size: tuple[int, int, int]
) -> tuple[np.ndarray, list[int], list[str]]:
    """Decode and resize `files`; unreadable ones are left out and named."""
    images, kept, skipped = [], [], []
    for i, path in enumerate(files):
        try:
            images.append(to_hwc(open_image(path), size))
            kept.append(i)
        except UNREADABLE:
            skipped.append(path.name)
    c, h, w = size
    stacked = np.stack(images) if images else np.zeros((0, h, w, c), np.uint8)
    return stacked, kept, skipped


def voc_pairs(root: Path, label: str) -> tuple[list[tuple[Path, Path]], Path | None]:
    """(image, mask) pairs with matching stems, and the ImageSets/Segmentation folder if any."""
    if (root / "JPEGImages").is_dir() and (root / "SegmentationClass").is_dir():
        image_dir, mask_dir = root / "JPEGImages", root / "SegmentationClass"
        lists = root / "ImageSets" / "Segmentation"
    elif (root / "images").is_dir() and (root / "masks").is_dir():
        image_dir, mask_dir, lists = root / "images", root / "masks", None
    else:
        raise CnnkitError(f"{label}: expected JPEGImages/ + SegmentationClass/ or images/ + masks/")
    masks = {p.stem: p for p in visible_files(mask_dir)}
    pairs = [(p, masks[p.stem]) for p in visible_files(image_dir) if p.stem in masks]
    if not pairs:
        raise CnnkitError(f"{label}: no image in {image_dir.name}/ has a mask in {mask_dir.name}/")
    return pairs, lists if lists is not None and lists.is_dir() else None


def split_pairs(
    pairs: list[tuple[Path, Path]], lists: Path | None, split: str, seed: int, label: str
) -> list[tuple[Path, Path]]:
    """The pairs of one split: from ImageSets/Segmentation/<split>.txt, else seeded 70/15/15."""
    if lists is None:
        return [pairs[i] for i in split_indices(len(pairs), split, seed)]
    part = split if (lists / f"{split}.txt").is_file() else "val"
    if part != split:
        note(f"{label}: no ImageSets/Segmentation/{split}.txt, using val.txt for {split}")
    listing = lists / f"{part}.txt"
    if not listing.is_file():
        raise CnnkitError(f"{label}: {listing} is missing")
    wanted = {line.strip() for line in listing.read_text().splitlines() if line.strip()}
    return [pair for pair in pairs if pair[0].stem in wanted]


@lru_cache(maxsize=8)
def voc_labels(path: str, names: tuple[str, ...] | None = None) -> LabelMap:
    """The classes a VOC folder declares: labelmap.txt (with colours), --classes, classes.txt;
    else VOC's 21 names or "background", "1".. by the largest label in the masks."""
    root = existing_root(path, "voc")
    if (root / "labelmap.txt").is_file():
        labels = read_labelmap(root / "labelmap.txt")
        return with_names(labels, names) if names else labels
    if names:
        if len(names) < 2:
            raise CnnkitError(f"--classes {','.join(names)}: give 2 or more class names")
        return LabelMap(tuple(names), None, "--classes")
    listing = root / "classes.txt"
    if listing.is_file():
        found = tuple(line.strip() for line in listing.read_text().splitlines() if line.strip())
        return LabelMap(found, None, str(listing))
    return LabelMap(_inferred_classes(root, path))


def _inferred_classes(root: Path, path: str) -> tuple[str, ...]:
    pairs, _ = voc_pairs(root, f"voc:{path}")
    largest = 0
    for _, mask_path in pairs:
        try:
            values = np.unique(np.asarray(open_image(mask_path)))
        except UNREADABLE:
            continue
        values = values[values != 255]
        largest = max(largest, int(values.max()) if values.size else 0)
    if (root / "JPEGImages").is_dir() and largest < len(VOC_CLASSES):
        return tuple(VOC_CLASSES)
    return ("background", *(str(k) for k in range(1, largest + 1)))


def voc_split(
    path: str, split: str, seed: int, names: tuple[str, ...] | None = None
) -> tuple[list[tuple[Path, Path]], LabelMap | None, list[str]]:
    """(image, mask) pairs of one split ("all": every pair), the label map decoding colour
    masks, the classes."""
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be one of {SPLITS} or all")
    label = f"voc:{path}"
    pairs, lists = voc_pairs(existing_root(path, "voc"), label)
    declared = voc_labels(path, names)
    labels = declared if declared.source else None  # inferred names check nothing
    chosen = pairs if split == "all" else split_pairs(pairs, lists, split, seed, label)
    return chosen, labels, list(declared.names)


def voc_sample(
    image_path: Path, mask_path: Path, labels: LabelMap | None, size: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """One pair at `size`: uint8 HWC image, uint8 label map; ImageError/ValueError if unreadable."""
    image = to_hwc(open_image(image_path), size)
    mask = mask_to_hw(decode_mask(open_image(mask_path), labels, mask_path), size)
    return image, mask


def voc_arrays(
    path: str,
    split: str,
    size: tuple[int, int, int],
    seed: int,
    names: tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """VOC-style folder -> (images NHWC uint8, uint8 label maps (N,H,W), classes)."""
    label = f"voc:{path}"
    chosen, labels, classes = voc_split(path, split, seed, names)
    images, masks, skipped = [], [], []
    for image_path, mask_path in chosen:
        try:
            image, mask = voc_sample(image_path, mask_path, labels, size)
        except UNREADABLE:
            skipped.append(image_path.name)
            continue
        images.append(image)
        masks.append(mask)
    report_skipped(label, skipped)
    if not images:
        raise CnnkitError(f"{label}: no readable image/mask pairs in the {split} split")
    return np.stack(images), np.stack(masks), classes
