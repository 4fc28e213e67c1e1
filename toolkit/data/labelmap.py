"""Segmentation label maps: `labelmap.txt` (Pascal VOC / CVAT `name:r,g,b::`) and mask decoding.

A labelling tool's export declares its classes and their colours; the colours in the
masks are mapped to class indices in the order the file lists them, so a 3-class set
trains a 3-way head named as its author named it. Without colours, masks are palette
(P) or gray (L) PNGs whose values are the class indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.data.images import IGNORE
from toolkit.errors import CnnkitError

# Pascal VOC's "void" colour (object borders and difficult regions): ignored, not a class.
VOID = (224, 224, 192)


@dataclass(frozen=True)
class LabelMap:
    """Class names in index order and, from a labelmap.txt, the colour of each."""

    names: tuple[str, ...]
    colours: tuple[tuple[int, int, int], ...] | None = None
    source: str = ""  # where the names came from, for messages


def read_labelmap(path: Path) -> LabelMap:
    """Parse `name:r,g,b:parts:actions` lines (# comments); a CnnkitError names a bad line."""
    names, colours = [], []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        colour_text = rest.split(":", 1)[0]
        try:
            colour = tuple(int(v) for v in colour_text.split(","))
        except ValueError:
            colour = ()
        if not name.strip() or len(colour) != 3 or not all(0 <= v <= 255 for v in colour):
            raise CnnkitError(f"{path}:{number}: expected name:r,g,b::, got {line!r}")
        if colour in colours:
            taken = names[colours.index(colour)]
            raise CnnkitError(f"{path}:{number}: colour {colour} is already {taken!r}")
        names.append(name.strip())
        colours.append(colour)
    if len(names) < 2:
        raise CnnkitError(f"{path}: declares {len(names)} class(es), a label map needs 2 or more")
    return LabelMap(tuple(names), tuple(colours), str(path))


def with_names(labels: LabelMap, names: tuple[str, ...]) -> LabelMap:
    """The label map renamed by --classes (same count: the colours keep their order)."""
    if len(names) != len(labels.names):
        raise CnnkitError(
            f"--classes names {len(names)} classes but {labels.source} declares "
            f"{len(labels.names)} ({', '.join(labels.names)})"
        )
    return LabelMap(names, labels.colours, "--classes")


def decode_mask(mask: Image.Image, labels: LabelMap | None, path: Path) -> Image.Image:
    """A mask as an L image of class indices (255 = ignore), colours mapped by `labels`.

    ValueError for a mask that is not a label map (an RGB mask with no labelmap.txt);
    CnnkitError for a colour or index the declared classes do not have.
    """
    if labels is not None and labels.colours is not None and mask.mode != "L":
        return Image.fromarray(_colours_to_indices(mask, labels, path), "L")
    if mask.mode not in ("P", "L"):
        raise ValueError(f"mask mode is {mask.mode}, expected a palette (P) or gray (L) PNG")
    if labels is not None:
        values = np.unique(np.asarray(mask))
        bad = values[(values >= len(labels.names)) & (values != IGNORE)]
        if bad.size:
            raise CnnkitError(
                f"{path}: label {int(bad[0])} but {labels.source} declares "
                f"{len(labels.names)} classes (0..{len(labels.names) - 1}, 255 = ignore)"
            )
    return mask


def _colours_to_indices(mask: Image.Image, labels: LabelMap, path: Path) -> np.ndarray:
    rgb = np.asarray(mask.convert("RGB"), dtype=np.int64)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    lookup = {(r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(labels.colours)}
    lookup.setdefault((VOID[0] << 16) | (VOID[1] << 8) | VOID[2], IGNORE)
    values, inverse = np.unique(codes, return_inverse=True)
    indices = np.empty(len(values), np.uint8)
    for i, code in enumerate(values.tolist()):
        if code not in lookup:
            colour = (code >> 16, (code >> 8) & 255, code & 255)
            raise CnnkitError(f"{path}: colour {colour} is not in {labels.source}")
        indices[i] = lookup[code]
    return indices[inverse].reshape(codes.shape)
