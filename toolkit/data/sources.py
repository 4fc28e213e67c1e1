"""Data sources by name: `digits`, `digit-scenes[:SIZE]`, `folder:PATH`, `voc:PATH`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.data import digits, folders, scenes
from toolkit.data.images import SPLITS
from toolkit.errors import CnnkitError

if TYPE_CHECKING:
    import numpy as np

USAGE = "use digits, digit-scenes[:SIZE], folder:PATH or voc:PATH"


@dataclass(frozen=True)
class Source:
    """A parsed --data value and what it implies for training."""

    text: str
    kind: str  # digits | digit-scenes | folder | voc
    path: str = ""
    canvas: int = scenes.DEFAULT_CANVAS

    @property
    def task(self) -> str:
        """classification or segmentation."""
        return "segmentation" if self.kind in ("digit-scenes", "voc") else "classification"

    @property
    def channels(self) -> int:
        """Natural channel count: gray for the built-in digits, RGB for folders."""
        return 1 if self.kind in ("digits", "digit-scenes") else 3

    @property
    def hflip(self) -> bool:
        """Whether horizontal flips are a sensible default (a flipped digit is another symbol)."""
        return self.kind in ("folder", "voc")

    @property
    def natural_size(self) -> tuple[int, int] | None:
        """(H, W) the data is made at, when it has one (digit-scenes: its canvas)."""
        return (self.canvas, self.canvas) if self.kind == "digit-scenes" else None


def parse_source(text: str) -> Source:
    """Parse a --data value; a CnnkitError naming the value when it is not one we know."""
    scheme, _, rest = text.partition(":")
    if text == "digits":
        return Source(text, "digits")
    if scheme == "digit-scenes":
        if not rest:
            return Source(text, "digit-scenes")
        if not rest.isdigit() or not 16 <= int(rest) <= 1024:
            raise CnnkitError(f"--data {text}: canvas size must be an integer in 16..1024")
        return Source(text, "digit-scenes", canvas=int(rest))
    if scheme in ("folder", "voc") and rest:
        return Source(text, scheme, path=rest)
    if Path(text).expanduser().is_dir():
        raise CnnkitError(
            f"--data {text}: a folder needs its layout named: folder:{text} (one sub-folder "
            f"per class) or voc:{text} (images with masks)"
        )
    raise CnnkitError(f"--data {text!r}: unknown data source; {USAGE}")


def split_arrays(
    source: str,
    split: str,
    input_size: tuple[int, int, int],
    seed: int = 0,
    classes: list[str] | tuple[str, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images uint8 NHWC at input_size, targets, classes) of one split of `source`.

    Targets are int64 (N,) for classification, uint8 (N, H, W) label maps (255 = ignore)
    for segmentation. `classes` names a voc folder's classes (--classes). The arrays are
    cached and read-only.
    """
    if split not in SPLITS:
        raise CnnkitError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    parsed = parse_source(source)
    if classes and parsed.kind != "voc":
        raise CnnkitError(
            f"--classes applies to voc: data; {source} names its classes itself"
            + (" (its sub-folder names)" if parsed.kind == "folder" else "")
        )
    names = tuple(classes) if classes else None
    return _cached_arrays(parsed, split, tuple(int(v) for v in input_size), seed, names)


@lru_cache(maxsize=16)
def _cached_arrays(
    source: Source,
    split: str,
    size: tuple[int, int, int],
    seed: int,
    names: tuple[str, ...] | None = None,
):
    if size[0] not in (1, 3):
        raise CnnkitError(f"--input-size {size}: images have 1 or 3 channels")
    if source.kind == "digits":
        images, targets, classes = digits.digits_arrays(split, size, seed)
    elif source.kind == "digit-scenes":
        images, targets, classes = scenes.scenes_arrays(split, size, seed, source.canvas)
    elif source.kind == "folder":
        images, targets, classes = folders.folder_arrays(source.path, split, size, seed)
    else:
        images, targets, classes = folders.voc_arrays(source.path, split, size, seed, names)
    for array in (images, targets):
        array.setflags(write=False)
    return images, targets, classes
