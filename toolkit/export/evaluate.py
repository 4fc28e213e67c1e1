"""The fp32 and the quantized model side by side: metric, agreement, size, batch-1 latency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnxruntime import InferenceSession

from toolkit.evaluate.metrics import accuracy, confusion_matrix, mean_iou
from toolkit.export.calibration import Samples
from toolkit.runtime.session import open_session
from toolkit.timing import time_runs

EVAL_BATCH = 32
LATENCY_RUNS = 30


def cpu_session(path: Path) -> InferenceSession:
    """A CPU onnxruntime session, opened the way `cnnkit infer --device cpu` opens it."""
    return open_session(path, device="cpu", quiet=True).session


def predict(session: InferenceSession, x: np.ndarray) -> np.ndarray:
    """Argmax over classes (axis 1) for every sample, run in batches; label maps as they are."""
    name = session.get_inputs()[0].name
    fixed = fixed_batch(session)
    step = fixed or EVAL_BATCH
    outputs = []
    for start in range(0, len(x), step):
        chunk = x[start : start + step]
        real = len(chunk)
        if fixed and real < fixed:  # a fixed-batch model: pad the last chunk, keep the real rows
            chunk = np.concatenate([chunk, np.zeros((fixed - real, *chunk.shape[1:]), chunk.dtype)])
        outputs.append(session.run(None, {name: chunk})[0][:real])
    out = np.concatenate(outputs)
    return out if np.issubdtype(out.dtype, np.integer) else out.argmax(1)


def fixed_batch(session: InferenceSession) -> int | None:
    """The batch size a model fixes on its input, else None."""
    first = session.get_inputs()[0].shape[0]
    return first if isinstance(first, int) and first > 0 else None


def latency_ms(session: InferenceSession, sample: np.ndarray, runs: int = LATENCY_RUNS) -> float:
    """Median wall time of one batch-1 run, after three untimed runs (bench's timing loop)."""
    feed = {session.get_inputs()[0].name: np.repeat(sample[None], fixed_batch(session) or 1, 0)}
    measurement = time_runs(lambda: session.run(None, feed), warmup=2, iterations=runs)
    return measurement.stats.p50_ms


def score(
    pred: np.ndarray, targets: np.ndarray | None, task: str, num_classes: int
) -> float | None:
    """Top-1 accuracy or mean IoU against the targets (eval's counting); None without targets."""
    if targets is None:
        return None
    confusion = confusion_matrix(pred, targets, num_classes)
    return mean_iou(confusion) if task == "segmentation" else accuracy(confusion)


def side_by_side(
    fp32: Path, quantized: Path, samples: Samples, task: str, num_classes: int
) -> dict:
    """Numbers for both models on the same samples (metric only when targets are known)."""
    sessions = {"fp32": cpu_session(fp32), "quant": cpu_session(quantized)}
    preds = {key: predict(s, samples.x) for key, s in sessions.items()}
    result = {"agreement": float((preds["fp32"] == preds["quant"]).mean())}
    for key, session in sessions.items():
        result[f"{key}_metric"] = score(preds[key], samples.targets, task, num_classes)
        result[f"{key}_latency_ms"] = latency_ms(session, samples.x[0])
    return result
