"""Request bodies -> the model tensor, with the checks `infer` applies to files.

An image body goes through Pillow exactly as `runtime.preprocess.open_image` decodes a
file (EXIF orientation, the pixel limit, the same error reasons), so a served row equals
`infer`'s row for the same bytes. A `.npy` body is one array: uint8 pixels or a float
(C, H, W) tensor, checked by `prepare_array`.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import DECODE_ERRORS, Decoded, ImageError, too_big

NPY_MAGIC = b"\x93NUMPY"
NPY_TYPES = ("application/x-npy", "application/npy")


def is_npy(body: bytes, content_type: str) -> bool:
    """Whether a body is a .npy array (by its content type or its magic bytes)."""
    return content_type.split(";")[0].strip().lower() in NPY_TYPES or body.startswith(NPY_MAGIC)


def open_image_bytes(key: str, body: bytes, max_pixels: int | None) -> Image.Image:
    """Decode image bytes with EXIF orientation applied; ImageError for anything unreadable."""
    if not body:
        raise ImageError(key, "empty body")
    limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(body)) as img:
            width, height = img.size
            if limit and width * height > limit:
                raise ImageError(key, too_big(width, height, limit))
            img.load()
            return ImageOps.exif_transpose(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(key, f"refused as a decompression bomb ({exc})") from None
    except UnidentifiedImageError:
        raise ImageError(key, "not an image Pillow can read") from None
    except DECODE_ERRORS as exc:
        raise ImageError(key, f"cannot decode: {exc}") from None


def load_npy_bytes(key: str, body: bytes) -> np.ndarray:
    """The one array of a .npy body (no pickles); ImageError when it is not one."""
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ImageError(key, f"not a .npy array: {exc}") from None
    if not isinstance(array, np.ndarray):
        raise ImageError(key, "not a single .npy array")
    return array


def decode_body(predictor: Predictor, key: str, body: bytes, content_type: str) -> Decoded:
    """An image or .npy body -> the preprocessed input; ImageError names what is wrong."""
    if is_npy(body, content_type):
        array = load_npy_bytes(key, body)
        try:
            return predictor.decode(array)
        except ImageError as exc:
            raise ImageError(key, exc.reason) from None
    return predictor.decode(open_image_bytes(key, body, predictor.max_pixels))
