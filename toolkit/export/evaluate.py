"""The fp32 and the quantized model side by side: metric, agreement, size, batch-1 latency."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from toolkit.export.calibration import Samples

EVAL_BATCH = 32
LATENCY_RUNS = 30


def open_session(path: Path):
    """A plain CPU onnxruntime session (what `cnnkit infer` uses by default on this machine)."""
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def predict(session, x: np.ndarray) -> np.ndarray:
    """Argmax over classes (axis 1) for every sample, run in batches."""
    name = session.get_inputs()[0].name
    out = [
        session.run(None, {name: x[i : i + EVAL_BATCH]})[0] for i in range(0, len(x), EVAL_BATCH)
    ]
    return np.concatenate(out).argmax(1)


def latency_ms(session, sample: np.ndarray, runs: int = LATENCY_RUNS) -> float:
    """Median wall time of one batch-1 run, after three warm-up runs."""
    feed = {session.get_inputs()[0].name: sample[None]}
    for _ in range(3):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def mean_iou(pred: np.ndarray, target: np.ndarray, num_classes: int) -> float:
    """Mean IoU over classes present in prediction or target; label 255 is ignored."""
    keep = target != 255
    p, t = pred[keep].astype(np.int64), target[keep].astype(np.int64)
    confusion = np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )
    tp = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - tp
    present = union > 0
    return float((tp[present] / union[present]).mean()) if present.any() else 0.0


def score(pred: np.ndarray, targets: np.ndarray | None, task: str, num_classes: int):
    """Top-1 accuracy or mean IoU against the targets; None without targets."""
    if targets is None:
        return None
    if task == "segmentation":
        return mean_iou(pred, targets, num_classes)
    return float((pred == targets).mean())


def side_by_side(
    fp32: Path, quantized: Path, samples: Samples, task: str, num_classes: int
) -> dict:
    """Numbers for both models on the same samples (metric only when targets are known)."""
    sessions = {"fp32": open_session(fp32), "quant": open_session(quantized)}
    preds = {key: predict(s, samples.x) for key, s in sessions.items()}
    result = {"agreement": float((preds["fp32"] == preds["quant"]).mean())}
    for key, session in sessions.items():
        result[f"{key}_metric"] = score(preds[key], samples.targets, task, num_classes)
        result[f"{key}_latency_ms"] = latency_ms(session, samples.x[0])
    return result
