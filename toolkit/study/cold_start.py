"""Cold start in a fresh process: the torch-free runtime against a torch process.

Each side is a new Python process that imports its stack, loads the same trained model
(ONNX file vs checkpoint), preprocesses the same PNG the same way and prints one label.
The child reports its import / load / first-result times and peak RSS; the parent times
the whole process, interpreter start included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit.errors import CnnkitError

HEADER = """
import json, sys, time
t0 = time.perf_counter()
"""
FOOTER = """
import resource
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if sys.platform == "darwin":
    peak_mb /= 1024
elif sys.platform.startswith("linux"):  # VmHWM starts afresh at exec; ru_maxrss does not
    with open("/proc/self/status") as status:
        peak_mb = next(int(l.split()[1]) / 1024 for l in status if l.startswith("VmHWM:"))
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_result_s": t3 - t2,
                  "label": label, "torch_imported": "torch" in sys.modules,
                  "peak_rss_mb": peak_mb}))
"""
RUNTIME = """
from toolkit.runtime import Predictor
t1 = time.perf_counter()
predictor = Predictor({model!r}, device="cpu", threads={threads}, quiet=True)
t2 = time.perf_counter()
label = predictor.predict([{image!r}])[0]["label"]
t3 = time.perf_counter()
"""
TORCH = """
import torch
from toolkit.runtime.preprocess import ModelSpec, load_image
from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint
t1 = time.perf_counter()
torch.set_num_threads({threads})
checkpoint = load_checkpoint({checkpoint!r})
model = model_from_checkpoint(checkpoint)
c, h, w = checkpoint["input_size"]
spec = ModelSpec("classification", c, (h, w), tuple(checkpoint["mean"]), tuple(checkpoint["std"]))
t2 = time.perf_counter()
with torch.inference_mode():
    logits = model(torch.from_numpy(load_image({image!r}, spec)[None]))
label = checkpoint["classes"][int(logits.argmax(1)[0])]
t3 = time.perf_counter()
"""


@dataclass(frozen=True)
class ProcessTiming:
    """One fresh process: its phases, whole wall time and peak RSS."""

    import_s: float
    load_s: float
    first_result_s: float
    process_s: float  # the whole process, interpreter start and exit included
    peak_rss_mb: float
    label: str
    torch_imported: bool

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def run_script(body: str, timeout: float = 300) -> ProcessTiming:
    """Run one child script and read its JSON line."""
    code = textwrap.dedent(HEADER) + textwrap.dedent(body) + textwrap.dedent(FOOTER)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    process_s = time.perf_counter() - start
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CnnkitError(f"cold-start child process failed: {last}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return ProcessTiming(process_s=process_s, **data)


def median_run(body: str, repeats: int) -> ProcessTiming:
    """The run with the median process time; with repeats > 1, after one untimed run
    that warms the file cache."""
    if repeats > 1:
        run_script(body)
    runs = sorted((run_script(body) for _ in range(repeats)), key=lambda r: r.process_s)
    return runs[len(runs) // 2]


def cold_starts(
    onnx_path: Path, checkpoint: Path, image: Path, *, threads: int = 2, repeats: int = 3
) -> dict:
    """Runtime process vs torch process on the same model and image (median of `repeats`)."""
    names = {"threads": threads, "image": str(image)}
    runtime = median_run(RUNTIME.format(model=str(onnx_path), **names), repeats)
    torch_side = median_run(TORCH.format(checkpoint=str(checkpoint), **names), repeats)
    return {
        "runtime": runtime.to_dict(),
        "torch": torch_side.to_dict(),
        "repeats": repeats,
        "threads": threads,
        "same_label": runtime.label == torch_side.label,
        "time_ratio": torch_side.process_s / runtime.process_s,
        "rss_ratio": torch_side.peak_rss_mb / runtime.peak_rss_mb,
    }
