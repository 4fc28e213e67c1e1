"""Preprocessing with numpy and Pillow, exactly as training does it (the brief's contract).

uint8 pixels in "L" (1 channel) or "RGB" (3), Pillow BILINEAR resize to the model's (H, W),
float32 = pixel / 255, then (x - mean) / std per channel, NCHW. Decoding honours EXIF
orientation, turns any Pillow mode into the model's, and refuses decompression bombs.
"""

from __future__ import annotations

import functools
import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from toolkit.errors import CnnkitError

RESIZE_MODES = ("stretch", "center-crop", "letterbox")
# Errors Pillow raises for files it cannot decode; each becomes that file's error row.
# struct.error and IndexError come out of some plugins on corrupt headers.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError)
# open_image refuses every image over the limit itself (Pillow only warns below twice it),
# so Pillow's warning would be a stray stderr line on top of that input's error row.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageError(CnnkitError):
    """One input could not be read or preprocessed; the run goes on without it."""

    def __init__(self, path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class ModelSpec:
    """What a model expects: task, input channels and size, normalisation, class names."""

    task: str  # "classification" | "segmentation"
    channels: int
    size: tuple[int, int]  # (H, W) every input is resized to
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: tuple[str, ...] | None = None  # None: class indices name the outputs
    resize: str = "stretch"
    raw: bool = False  # uint8 model input: pixels 0..255 as they are, no normalisation

    def label(self, index: int) -> str:
        """The name of output class `index`."""
        if self.classes is not None and index < len(self.classes):
            return self.classes[index]
        return str(index)


@dataclass(frozen=True)
class Geometry:
    """Where the original image lies in the model input, so masks can be mapped back."""

    original: tuple[int, int]  # (W, H) of the oriented original
    content: tuple[int, int, int, int]  # box of the model input showing image content
    source: tuple[int, int, int, int]  # box of the original that content shows


@dataclass
class Decoded:
    """One preprocessed input: the tensor (C, H, W; float32, or uint8 for raw models), its
    geometry, the original."""

    array: np.ndarray
    geometry: Geometry
    image: Image.Image | None = None  # the oriented original, kept only for overlays


@dataclass(frozen=True)
class ImageBytes:
    """An encoded image held in memory (a request body): `key` names it in errors."""

    key: str
    body: bytes


def image_file(source: str | Path | ImageBytes):
    """What Image.open reads for a path or in-memory bytes."""
    return io.BytesIO(source.body) if isinstance(source, ImageBytes) else source


def check_not_empty(source: str | Path | ImageBytes) -> None:
    """ImageError for an empty file or body (Pillow's own message would be vaguer)."""
    if isinstance(source, ImageBytes):
        if not source.body:
            raise ImageError(source.key, "empty body")
    elif source.is_file() and source.stat().st_size == 0:
        raise ImageError(source, "empty file")


def open_image(source: str | Path | ImageBytes, max_pixels: int | None = None) -> Image.Image:
    """Decode a file or ImageBytes with EXIF orientation applied; ImageError if unreadable."""
    source = source if isinstance(source, ImageBytes) else Path(source)
    name = source.key if isinstance(source, ImageBytes) else source
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
    try:
        check_not_empty(source)
        with Image.open(image_file(source)) as img:
            width, height = img.size
            if limit and width * height > limit:
                raise ImageError(name, too_big(width, height, limit))
            img.load()
            return ImageOps.exif_transpose(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(name, f"refused as a decompression bomb ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError(name, "not an image Pillow can read") from None
    except IsADirectoryError:
        raise ImageError(name, "is a folder, not an image") from None
    except FileNotFoundError:
        raise ImageError(name, "no such file (or a dangling link)") from None
    except PermissionError:
        raise ImageError(name, "permission denied") from None
    except DECODE_ERRORS as exc:
        raise ImageError(name, f"cannot decode: {exc}") from None


def too_big(width: int, height: int, limit: int) -> str:
    """The decompression-bomb message."""
    return (
        f"{width}x{height} = {width * height:,} pixels is over the limit of {limit:,} "
        "(decompression-bomb guard; raise it with --max-pixels)"
    )


def to_uint8(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit integer or float images scaled into 8-bit "L"."""
    values = np.asarray(img)
    if img.mode == "F":
        scaled = np.clip(values, 0, 255)
    else:  # I;16* and I hold 16-bit samples: 65535 -> 255
        scaled = np.clip(values.astype(np.float64), 0, 65535) / 257.0
    return Image.fromarray(np.round(scaled).astype(np.uint8), mode="L")


def to_model_mode(img: Image.Image, channels: int) -> Image.Image:
    """Convert any Pillow mode to "L" (1 channel) or "RGB" (3); alpha is dropped."""
    if channels not in (1, 3):
        raise CnnkitError(f"a {channels}-channel model takes .npy float tensors, not images")
    if img.mode.startswith("I") or img.mode == "F":
        img = to_uint8(img)
    target = "L" if channels == 1 else "RGB"
    if img.mode == target:
        return img
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode not in ("L", "RGB", "RGBA", "LA"):  # CMYK, YCbCr, LAB, HSV, 1, P
        img = img.convert("RGB")
    return img.convert(target)


def resize(img: Image.Image, size: tuple[int, int], mode: str) -> tuple[Image.Image, Geometry]:
    """Resize to (H, W) by stretching, shorter side + center crop, or letterboxing."""
    height, width = size
    w, h = img.size
    if mode == "stretch":
        out = img.resize((width, height), Image.Resampling.BILINEAR)
        return out, Geometry((w, h), (0, 0, width, height), (0, 0, w, h))
    if mode == "center-crop":
        scale = max(width / w, height / h)
        nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
        left, top = (nw - width) // 2, (nh - height) // 2
        out = img.resize((nw, nh), Image.Resampling.BILINEAR)
        out = out.crop((left, top, left + width, top + height))
        box = (left / scale, top / scale, (left + width) / scale, (top + height) / scale)
        source = tuple(min(limit, round(v)) for v, limit in zip(box, (w, h, w, h), strict=True))
        return out, Geometry((w, h), (0, 0, width, height), source)
    if mode == "letterbox":
        scale = min(width / w, height / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        left, top = (width - nw) // 2, (height - nh) // 2
        canvas = Image.new(img.mode, (width, height), 0)  # black bars
        canvas.paste(img.resize((nw, nh), Image.Resampling.BILINEAR), (left, top))
        return canvas, Geometry((w, h), (left, top, left + nw, top + nh), (0, 0, w, h))
    raise CnnkitError(f"--resize {mode!r}: expected one of {', '.join(RESIZE_MODES)}")


@functools.lru_cache(maxsize=16)
def normalization_table(mean: tuple[float, ...], std: tuple[float, ...], channels: int):
    """(C, 256) float32: ((v / 255) - mean) / std for every uint8 value v, per channel."""
    values = np.arange(256, dtype=np.float32)[None, :] / np.float32(255)
    mean_c = np.broadcast_to(np.asarray(mean, dtype=np.float32), (channels,))[:, None]
    std_c = np.broadcast_to(np.asarray(std, dtype=np.float32), (channels,))[:, None]
    return (values - mean_c) / std_c


def normalize(img: Image.Image, spec: ModelSpec) -> np.ndarray:
    """uint8 pixels -> float32 (C, H, W): pixel / 255, then (x - mean) / std per channel.

    A 256-entry table per channel gives the same float32 values as computing each pixel,
    at a fraction of the cost (the runner must keep up with session.run).
    """
    pixels = np.asarray(img, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    planes = pixels.transpose(2, 0, 1)
    if spec.raw:
        return np.ascontiguousarray(planes)
    table = normalization_table(tuple(spec.mean), tuple(spec.std), planes.shape[0])
    return np.stack([table[c][plane] for c, plane in enumerate(planes)])


def prepare(img: Image.Image, spec: ModelSpec, keep_image: bool = False) -> Decoded:
    """A decoded image -> the model tensor and its geometry."""
    converted = to_model_mode(img, spec.channels)
    resized, geometry = resize(converted, spec.size, spec.resize)
    original = img.convert("RGB") if keep_image else None
    return Decoded(normalize(resized, spec), geometry, original)


def prepare_array(
    array: np.ndarray, spec: ModelSpec, name: str = "array", layout: str = "NCHW"
) -> Decoded:
    """uint8 pixels (H, W[, C]) go through `prepare`; a float tensor in the model's layout
    ((C, H, W), or (H, W, C) for NHWC) is taken as it is."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        pixels = array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array
        if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] not in (3, 4)):
            raise ImageError(name, f"uint8 pixels must be (H, W) or (H, W, 3|4), got {array.shape}")
        return prepare(Image.fromarray(pixels), spec)
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageError(name, f"expected uint8 pixels or a float tensor, got {array.dtype}")
    if spec.raw:
        raise ImageError(name, "the model takes uint8 pixels; give images or uint8 arrays")
    chw = (spec.channels, *spec.size)
    expected = chw if layout == "NCHW" else (*spec.size, spec.channels)
    if array.shape != expected:
        raise ImageError(name, f"float tensor has shape {array.shape}, the model takes {expected}")
    with np.errstate(over="ignore"):  # float64 past float32's range becomes inf: refused
        tensor = array.astype(np.float32)
    if not np.isfinite(tensor).all():  # NaN/inf would come out as a confident-looking label
        raise ImageError(name, "float tensor holds NaN or infinite values (in float32)")
    if layout == "NHWC":
        tensor = tensor.transpose(2, 0, 1)
    _, height, width = chw
    full = (0, 0, width, height)
    return Decoded(np.ascontiguousarray(tensor), Geometry((width, height), full, full))


def load_image(path: str | Path, spec: ModelSpec, max_pixels: int | None = None) -> np.ndarray:
    """Decode and preprocess one image file into the model's float32 (C, H, W) tensor."""
    return prepare(open_image(path, max_pixels), spec).array


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SpecFlags:
    """What the user said about a model: needed for foreign files, overrides otherwise."""

    size: tuple[int, int] | None = None  # (H, W)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    labels: str | Path | None = None  # a text file, one class name per line
    gray: bool = False
    resize: str = "stretch"
    layout: str | None = None  # "NCHW" | "NHWC"; None: from the input's shape
    outputs: str = "auto"  # "auto" | "logits" | "probs"
    output: str | None = None  # which output to read; None: the first
    feeds: tuple[tuple[str, str], ...] = ()  # (input name, .npy file) for non-image inputs
    channels: int | None = None  # C of --input-size C,H,W: 1 feeds gray, else must match

    def __post_init__(self):
        # a {name: file} dict is accepted too; stored as pairs so the flags stay hashable
        object.__setattr__(self, "feeds", tuple(dict(self.feeds or ()).items()))


def read_labels(path: str | Path) -> tuple[str, ...]:
    """Class names from a text file, one per line (blank lines skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CnnkitError(f"--labels {path}: cannot read it ({exc})") from None
    names = tuple(line.strip() for line in lines if line.strip())
    if not names:
        raise CnnkitError(f"--labels {path}: no class names in it")
    return names


def per_channel(values, channels: int, flag: str) -> tuple[float, ...]:
    """One value per channel (a single value is repeated)."""
    values = tuple(float(v) for v in values)
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise CnnkitError(f"{flag} has {len(values)} values, the model has {channels} channels")
    if flag == "--std" and any(v <= 0 for v in values):
        raise CnnkitError(f"--std values must be positive, got {list(values)}")
    return values
