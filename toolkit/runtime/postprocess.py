"""Model outputs -> result rows (the results.jsonl format of DESIGN.md)."""

from __future__ import annotations

import numpy as np

from toolkit.runtime.masks import class_pixels
from toolkit.runtime.preprocess import ModelSpec

DIGITS = 6  # probabilities are written rounded: float32 noise is not a prediction


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, computed in float64 for stability."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def error_row(key: str, reason: str, task: str) -> dict:
    """The row of an input that could not be processed."""
    row = {"path": key, "status": "error", "label": None, "score": None}
    if task == "segmentation":
        row.update(mask=None, class_pixels=None)
    else:
        row["topk"] = []
    row["error"] = reason
    return row


def classification_rows(keys: list[str], logits: np.ndarray, spec: ModelSpec, topk: int):
    """One row per input: the best label, its probability and the top-k."""
    if logits.ndim != 2:
        raise ValueError(f"classification output must be [N, K], got {list(logits.shape)}")
    probs = softmax(logits)
    rows = []
    for key, p in zip(keys, probs, strict=True):
        order = np.argsort(-p, kind="stable")[: max(1, topk)]
        top = [{"label": spec.label(int(i)), "prob": round(float(p[i]), DIGITS)} for i in order]
        rows.append(
            {
                "path": key,
                "status": "ok",
                "label": top[0]["label"],
                "score": top[0]["prob"],
                "topk": top,
                "error": None,
            }
        )
    return rows


def argmax_masks(logits: np.ndarray) -> np.ndarray:
    """[N, K, H, W] scores -> [N, H, W] uint8 class indices."""
    if logits.ndim != 4:
        raise ValueError(f"segmentation output must be [N, K, H, W], got {list(logits.shape)}")
    if logits.shape[1] > 255:
        raise ValueError(f"{logits.shape[1]} classes do not fit a uint8 mask")
    return logits.argmax(axis=1).astype(np.uint8)


def segmentation_row(key: str, mask: np.ndarray, spec: ModelSpec, num_classes: int, ref) -> dict:
    """A row for one mask (at the original size); `ref` is the mask's path or array."""
    labels = [spec.label(i) for i in range(num_classes)]
    pixels = class_pixels(mask, labels)
    total = max(1, sum(pixels.values()))
    label = max(pixels, key=pixels.get)  # the class covering most pixels
    return {
        "path": key,
        "status": "ok",
        "label": label,
        "score": round(pixels[label] / total, DIGITS),
        "mask": ref,
        "class_pixels": pixels,
        "error": None,
    }
