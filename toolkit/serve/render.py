"""Rows -> HTTP answers: JSON rows, and segmentation masks as PNG or run-length JSON."""

from __future__ import annotations

import io
from urllib.parse import quote

import numpy as np
from starlette.responses import JSONResponse, Response

from toolkit.runtime.masks import mask_image


def run_length(mask: np.ndarray) -> dict:
    """A uint8 mask (H, W) as runs over its row-major pixels: values and their lengths."""
    flat = mask.reshape(-1)
    if flat.size == 0:
        return {"encoding": "rle", "size": list(mask.shape), "values": [], "lengths": []}
    starts = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], starts, [flat.size]])
    return {
        "encoding": "rle",
        "size": [int(d) for d in mask.shape],
        "values": [int(v) for v in flat[bounds[:-1]]],
        "lengths": [int(n) for n in np.diff(bounds)],
    }


def from_run_length(encoded: dict) -> np.ndarray:
    """The mask a `run_length` dict describes."""
    values = np.repeat(np.asarray(encoded["values"], dtype=np.uint8), encoded["lengths"])
    return values.reshape(encoded["size"])


def png_bytes(mask: np.ndarray) -> bytes:
    """The mask as the palette PNG `infer` writes."""
    buffer = io.BytesIO()
    mask_image(mask).save(buffer, format="PNG")
    return buffer.getvalue()


def render_row(row: dict, accept: str) -> Response:
    """A row as JSON; a segmentation mask as PNG when Accept asks for image/png."""
    mask = row.get("mask")
    if not isinstance(mask, np.ndarray):
        return JSONResponse(row)
    if "image/png" in accept.lower():
        # Header values are latin-1: a class name travels percent-encoded.
        headers = {"X-Cnnkit-Label": quote(str(row["label"])), "X-Cnnkit-Score": str(row["score"])}
        return Response(png_bytes(mask), media_type="image/png", headers=headers)
    return JSONResponse({**row, "mask": run_length(mask)})
