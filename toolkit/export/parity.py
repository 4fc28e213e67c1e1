"""Parity: the same random inputs through torch and onnxruntime (CPU), compared number by number."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

PARITY_SEED = 1234


def parity_shapes(input_size: tuple[int, int, int], task: str) -> list[tuple[int, ...]]:
    """Batch 1 and 3 at the model's size; segmentation also at a larger, odd, non-square size."""
    c, h, w = input_size
    shapes = [(1, c, h, w), (3, c, h, w)]
    if task == "segmentation":
        shapes.append((2, c, _odd_larger(h), _odd_larger(w) + 2))
    return shapes


def _odd_larger(n: int) -> int:
    return n + 7 if n % 2 == 0 else n + 8


def compare(reference: np.ndarray, candidate: np.ndarray, atol: float, rtol: float) -> dict:
    """max abs / rel error, cosine, argmax agreement (over axis 1) and the verdict.

    The verdict is Polygraphy's elementwise rule: an element fails when |got - ref| >
    atol + rtol * |ref|. `allowed_ratio` is the largest |got - ref| / (atol + rtol * |ref|),
    so a row passes exactly when it is <= 1; max rel (which divides by max(|ref|, atol)) can
    exceed rtol on a passing row, where atol covers elements near zero.
    """
    ref = reference.astype(np.float64)
    cand = candidate.astype(np.float64)
    diff = np.abs(ref - cand)
    denom = np.linalg.norm(ref) * np.linalg.norm(cand)
    cosine = float(np.dot(ref.ravel(), cand.ravel()) / denom) if denom else 1.0
    return {
        "max_abs": float(diff.max()),
        "max_rel": float((diff / np.maximum(np.abs(ref), atol)).max()),
        "allowed_ratio": float((diff / (atol + rtol * np.abs(ref))).max()),
        "cosine": cosine,
        "agreement": float((ref.argmax(1) == cand.argmax(1)).mean()),
        "ok": bool(np.all(diff <= atol + rtol * np.abs(ref)) and np.isfinite(cand).all()),
    }


def check_parity(
    model: nn.Module,
    onnx_model: str | bytes,
    input_size: tuple[int, int, int],
    task: str,
    atol: float = 1e-4,
    rtol: float = 1e-3,
) -> list[dict]:
    """One row per tested shape: the shape plus `compare`'s numbers."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(PARITY_SEED)
    rows = []
    for shape in parity_shapes(input_size, task):
        x = torch.randn(shape, generator=generator)
        with torch.no_grad():
            expected = model(x).numpy()
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        rows.append({"shape": list(shape), **compare(expected, got, atol, rtol)})
    return rows
