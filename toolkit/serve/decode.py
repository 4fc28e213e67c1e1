"""Request bodies -> the model tensor, with the checks `infer` applies to files.

An image body is decoded by the same code as a file (`Predictor.decode` of `ImageBytes`:
DCT-scaled JPEGs unless `--decode full`, EXIF orientation, the pixel limit, the same error
reasons), so a served row equals `infer`'s row for the same bytes. A `.npy` body is one
array: uint8 pixels or a float (C, H, W) tensor, checked by `prepare_array`.

A .npy header declares its shape, and numpy allocates what it declares before reading a
byte of data: 128 bytes declaring (1, 1000000, 1000000) float32 ask for 4 TB. The header
is read first, and a body whose data is not exactly the declared size is refused, so no
body makes the server allocate more than the bytes it sent (at most --max-body).
"""

from __future__ import annotations

import io
import math
import re

import numpy as np

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import Decoded, ImageBytes, ImageError

NPY_MAGIC = b"\x93NUMPY"
NPY_TYPES = ("application/x-npy", "application/npy")


def is_npy(body: bytes, content_type: str) -> bool:
    """Whether a body is a .npy array (by its content type or its magic bytes)."""
    return content_type.split(";")[0].strip().lower() in NPY_TYPES or body.startswith(NPY_MAGIC)


def npy_header(key: str, body: bytes) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data offset) of a .npy body, read without loading it; ImageError when
    the header is not valid or does not match the bytes that follow it."""
    stream = io.BytesIO(body)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} is not supported")
    except (OSError, ValueError, EOFError) as exc:
        raise ImageError(key, f"not a .npy array: {header_reason(exc)}") from None
    if dtype.hasobject:
        raise ImageError(key, "the .npy array holds Python objects (pickles are refused)")
    if any(d < 0 for d in shape):
        raise ImageError(key, f"the .npy header declares a negative dimension: {shape}")
    declared = math.prod(shape) * dtype.itemsize
    sent = len(body) - stream.tell()
    if declared != sent:
        raise ImageError(
            key,
            f"the .npy header declares {shape} {dtype} ({declared:,} bytes of data), "
            f"the body holds {sent:,}",
        )
    return shape, dtype, stream.tell()


def header_reason(exc: Exception) -> str:
    """numpy's complaint about a header, without the repr of a parser node it may quote."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"<ast\.\w+ object at 0x[0-9a-f]+>", "an expression", reason)


def load_npy_bytes(key: str, body: bytes) -> np.ndarray:
    """The one array of a .npy body (no pickles), its size checked before anything is
    allocated; ImageError when it is not one."""
    npy_header(key, body)
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ImageError(key, f"not a .npy array: {header_reason(exc)}") from None


def decode_body(predictor: Predictor, key: str, body: bytes, content_type: str) -> Decoded:
    """An image or .npy body -> the preprocessed input; ImageError names what is wrong."""
    if is_npy(body, content_type):
        array = load_npy_bytes(key, body)
        try:
            return predictor.decode(array)
        except ImageError as exc:
            raise ImageError(key, exc.reason) from None
    return predictor.decode(ImageBytes(key, body))
