"""Fast image decoding: a photo decoded only as large as the model input needs.

A 12 MP JPEG decoded in full and shrunk to 224x224 spends most of its time making pixels
the resize throws away. libjpeg can decode at 1/2, 1/4 or 1/8 scale directly (DCT
scaling); we ask for the smallest scale whose image still covers what the resize step
produces (never smaller, so the resize only ever shrinks), then preprocess as usual.
simplejpeg (libjpeg-turbo, `pip install simplejpeg`) decodes when installed, Pillow's
`Image.draft` otherwise; PNG, WebP, TIFF and the rest decode in full and are shrunk by
Pillow's integer `reduce` first, down to twice the needed size. EXIF orientation is kept,
and masks map back to the original size. `--decode full` is the exact, bit-for-bit old path.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.runtime.preprocess import (
    DECODE_ERRORS,
    Decoded,
    Geometry,
    ImageBytes,
    ModelSpec,
    image_file,
    open_image,
    prepare,
)

try:  # optional: the fastest JPEG decoder, with DCT scaling built in
    import simplejpeg
except ImportError:  # pragma: no cover - depends on the install
    simplejpeg = None

DECODE_MODES = ("fast", "full")
ORIENTATION = 0x0112  # the EXIF tag; 5..8 swap width and height
TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
REDUCIBLE_MODES = ("L", "LA", "RGB", "RGBA")  # modes Image.reduce averages meaningfully
# `reduce` is a box filter, coarser than a DCT scale: it stops at twice the needed size
# (Pillow's own reducing_gap for thumbnails), leaving the rest to the bilinear resize.
REDUCING_GAP = 2
# A file the fast path cannot take is decoded again by the exact path, which either
# reads it or names what is wrong with it (one error row, as before).
FAST_ERRORS = (*DECODE_ERRORS, Image.DecompressionBombError)


def check_decode_mode(mode: str) -> str:
    """The mode, or a CnnkitError naming --decode."""
    if mode not in DECODE_MODES:
        raise CnnkitError(f"--decode {mode!r}: expected one of {', '.join(DECODE_MODES)}")
    return mode


def needed_size(original: tuple[int, int], size: tuple[int, int], resize: str) -> tuple[int, int]:
    """(W, H) the resize step scales an image of `original` (W, H) to, before crop or bars."""
    height, width = size
    w, h = original
    if resize == "center-crop":
        scale = max(width / w, height / h)
        return max(width, round(w * scale)), max(height, round(h * scale))
    if resize == "letterbox":
        scale = min(width / w, height / h)
        return max(1, round(w * scale)), max(1, round(h * scale))
    return width, height


def reduce_factor(current: tuple[int, int], needed: tuple[int, int]) -> int:
    """The largest integer factor that keeps both sides at least `needed` (1: none)."""
    return max(1, min(current[0] // max(1, needed[0]), current[1] // max(1, needed[1])))


def raw_frame(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """A (W, H) of the oriented image in the file's stored frame (swapped for 5..8)."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def encoded_bytes(source: Path | ImageBytes) -> bytes:
    """The encoded file's bytes."""
    return source.body if isinstance(source, ImageBytes) else source.read_bytes()


def decode_jpeg(
    img: Image.Image, source: Path | ImageBytes, target: tuple[int, int]
) -> Image.Image:
    """A JPEG at the smallest DCT scale whose size covers `target` (W, H, stored frame)."""
    if simplejpeg is not None and img.mode in ("L", "RGB"):
        colorspace = "GRAY" if img.mode == "L" else "RGB"
        pixels = simplejpeg.decode_jpeg(
            encoded_bytes(source), colorspace=colorspace, min_width=target[0], min_height=target[1]
        )
        return Image.fromarray(pixels[:, :, 0] if colorspace == "GRAY" else pixels)
    img.draft(img.mode, target)  # Pillow keeps the result at least `target` on both sides
    img.load()
    return img


def open_scaled(
    source: Path | ImageBytes, spec: ModelSpec, max_pixels: int | None
) -> tuple[Image.Image, tuple]:
    """(the oriented image, reduced where it could be; the oriented original (W, H))."""
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
    with Image.open(image_file(source)) as img:  # reads the header only
        width, height = img.size
        if limit and width * height > limit:
            raise ValueError("over the pixel limit")  # the exact path words the refusal
        orientation = img.getexif().get(ORIENTATION, 1)
        oriented = raw_frame((width, height), orientation)
        target = raw_frame(needed_size(oriented, spec.size, spec.resize), orientation)
        if img.format == "JPEG":
            out = decode_jpeg(img, source, target)
        else:
            img.load()
            gapped = (target[0] * REDUCING_GAP, target[1] * REDUCING_GAP)
            factor = reduce_factor(img.size, gapped) if img.mode in REDUCIBLE_MODES else 1
            out = img.reduce(factor) if factor > 1 else img
    transpose = TRANSPOSES.get(orientation)
    return (out.transpose(transpose) if transpose is not None else out), oriented


def to_original(geometry: Geometry, original: tuple[int, int]) -> Geometry:
    """Geometry of a reduced decode restated in the original image's pixels."""
    sx, sy = original[0] / geometry.original[0], original[1] / geometry.original[1]
    x0, y0, x1, y1 = geometry.source
    source = (
        min(original[0], round(x0 * sx)),
        min(original[1], round(y0 * sy)),
        min(original[0], round(x1 * sx)),
        min(original[1], round(y1 * sy)),
    )
    return Geometry(original, geometry.content, source)


def as_source(source: str | Path | ImageBytes) -> Path | ImageBytes:
    """A path as a Path; in-memory bytes as they are."""
    return source if isinstance(source, ImageBytes) else Path(source)


def decode_fast(
    source: str | Path | ImageBytes, spec: ModelSpec, max_pixels: int | None = None
) -> Decoded:
    """Decode at reduced scale and preprocess; the exact path for files it cannot take."""
    source = as_source(source)
    try:
        img, original = open_scaled(source, spec, max_pixels)
    except FAST_ERRORS:
        return prepare(open_image(source, max_pixels), spec)
    decoded = prepare(img, spec)
    if img.size != original:
        decoded.geometry = to_original(decoded.geometry, original)
    return decoded


def decode_path(
    path: str | Path | ImageBytes,
    spec: ModelSpec,
    *,
    max_pixels: int | None = None,
    mode: str = "fast",
    keep_image: bool = False,
) -> Decoded:
    """One image file or body -> Decoded; `full` (or keeping the image) is the exact path."""
    if mode == "full" or keep_image:
        return prepare(open_image(path, max_pixels), spec, keep_image)
    return decode_fast(path, spec, max_pixels)


def fast_image(path: str | Path, spec: ModelSpec, max_pixels: int | None = None) -> Image.Image:
    """The oriented image as the fast path decodes it (for tests and comparisons)."""
    return open_scaled(as_source(path), spec, max_pixels)[0]
