"""Request bodies -> the model tensor, with the checks `infer` applies to files.

An image body is decoded by the same code as a file (`Predictor.decode` of `ImageBytes`:
DCT-scaled JPEGs unless `--decode full`, EXIF orientation, the pixel limit, the same error
reasons), so a served row equals `infer`'s row for the same bytes. A `.npy` body is one
array: uint8 pixels or a float (C, H, W) tensor, checked by `prepare_array`.
"""

from __future__ import annotations

import io

import numpy as np

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import Decoded, ImageBytes, ImageError

NPY_MAGIC = b"\x93NUMPY"
NPY_TYPES = ("application/x-npy", "application/npy")


def is_npy(body: bytes, content_type: str) -> bool:
    """Whether a body is a .npy array (by its content type or its magic bytes)."""
    return content_type.split(";")[0].strip().lower() in NPY_TYPES or body.startswith(NPY_MAGIC)


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
    return predictor.decode(ImageBytes(key, body))
