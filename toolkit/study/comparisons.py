"""The comparisons of `make bench`, each measured in one run side by side.

Every function returns plain numbers (a dict); pipeline.py orders them into a
StudyReport and markdown.py renders it. Torch is only used through toolkit.export and
the eager comparison (toolkit.bench_eager).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.bench import BenchConfig, run_bench
from toolkit.bench.machine import int8_ratio, vector_extensions
from toolkit.bench_eager import against_torch
from toolkit.study.results import (
    Agreement,
    EagerComparison,
    EagerRow,
    Int8Comparison,
    Int8Row,
    PeakComparison,
    PeakRow,
)

if TYPE_CHECKING:
    from toolkit.bench.peak import PeakResult
    from toolkit.runtime.session import SessionHandle
    from toolkit.study.plan import StudyPlan

RUNNER_TARGET = 0.90  # runner images/s over raw session.run images/s


def bench_config(plan: StudyPlan, batches: Sequence[int]) -> BenchConfig:
    """The report's measurement settings for some batch sizes."""
    return BenchConfig(
        batches=tuple(batches),
        threads=(plan.threads,),
        warmup=plan.warmup,
        iterations=plan.iterations,
        quiet=True,
        warn=False,  # build_report warned once, before the first timing
    )


def ort_vs_eager(model: str, onnx_path: Path, checkpoint: Path, plan: StudyPlan) -> EagerComparison:
    """onnxruntime fp32 against torch eager on the same inputs, same threads."""
    result = run_bench(
        [onnx_path],
        bench_config(plan, plan.eager_batches),
        eager=against_torch(checkpoint),
        save=False,
    )
    ort = {e.batch: e for e in result.entries if e.mode == "session.run"}
    eager = {e.batch: e for e in result.entries if e.mode == "torch-eager"}
    rows = [
        EagerRow(
            batch=batch,
            ort_p50_ms=ort[batch].stats.p50_ms,
            torch_p50_ms=eager[batch].stats.p50_ms,
            ort_ips=ort[batch].throughput_ips,
            torch_ips=eager[batch].throughput_ips,
            ort_speedup=eager[batch].stats.p50_ms / ort[batch].stats.p50_ms,
        )
        for batch in sorted(ort)
    ]
    input_size = result.entries[0].input_shape[1:]
    return EagerComparison(model, input_size, rows, result.json_value())


def digits_test_tensors(
    session_handle: SessionHandle, size: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The digits test split, preprocessed with the model's own metadata (NCHW float32)."""
    from toolkit.data import split_arrays
    from toolkit.export.calibration import normalize_batch

    images, targets, _ = split_arrays("digits", "test", tuple(size), 0)
    meta = session_handle.meta
    return normalize_batch(images, meta.mean, meta.std), np.asarray(targets)


def predictions(path: Path, x: np.ndarray, threads: int) -> np.ndarray:
    """Top-1 class indices of a model over an array, in batches."""
    from toolkit.export.evaluate import predict
    from toolkit.runtime.session import open_session

    return predict(open_session(path, device="cpu", threads=threads, quiet=True).session, x)


def top1_agreement(fp32: Path, int8: Path, size: tuple[int, int, int], threads: int) -> Agreement:
    """Top-1 agreement of int8 with fp32, and both accuracies, on the digits test split."""
    from toolkit.runtime.session import open_session

    x, targets = digits_test_tensors(open_session(fp32, device="cpu", quiet=True), size)
    a, b = predictions(fp32, x, threads), predictions(int8, x, threads)
    return Agreement(
        samples=int(len(x)),
        agreement=float((a == b).mean()),
        fp32_accuracy=float((a == targets).mean()),
        int8_accuracy=float((b == targets).mean()),
    )


def int8_vs_fp32(
    model: str, fp32: Path, size: tuple[int, int, int], plan: StudyPlan
) -> Int8Comparison:
    """Static int8 (calibrated on the run's training data) against fp32: speed and agreement."""
    from toolkit.export import quantize_onnx

    # force: the report measures agreement; it must not refuse to write the file.
    quantized = quantize_onnx(fp32, mode="static", force=True, quiet=True).path
    result = run_bench([fp32, quantized], bench_config(plan, plan.eager_batches), save=False)
    rows = []
    for batch in plan.eager_batches:
        a, b = [e for e in result.entries if e.batch == batch]
        rows.append(Int8Row(batch, a.stats.p50_ms, b.stats.p50_ms, a.stats.p50_ms / b.stats.p50_ms))
    return Int8Comparison(
        model=model,
        input_size=list(size),
        int8_file=quantized.name,
        fp32_bytes=fp32.stat().st_size,
        int8_bytes=quantized.stat().st_size,
        accuracy=top1_agreement(fp32, quantized, size, plan.threads),
        isa_ratio=int8_ratio(vector_extensions()),
        rows=rows,
        entries=result.json_value(),
    )


def write_pngs(folder: Path, size: tuple[int, int, int], count: int) -> list[Path]:
    """Digits test images as PNG files at the model's input size (gray or RGB)."""
    from PIL import Image

    from toolkit.data import split_arrays

    images, _, _ = split_arrays("digits", "test", tuple(size), 0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = images[i % len(images)]
        path = folder / f"digit{i:04d}.png"
        Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(path)
        paths.append(path)
    return paths


def raw_ips(onnx_path: Path, plan: StudyPlan) -> float:
    """session.run images/s on pre-decoded random tensors at the runner's batch size."""
    config = bench_config(plan, [plan.runner_batch])
    (raw,) = run_bench([onnx_path], config, save=False).json_value()
    return raw["throughput_ips"]


def infer_inputs(onnx_path: Path, inputs: list, plan: StudyPlan, out: Path, decode: str = "fast"):
    """`run_inference` over the inputs, batch and threads of the plan; its summary."""
    from toolkit.runtime import run_inference

    return run_inference(
        onnx_path,
        inputs,
        out,
        batch_size=plan.runner_batch,
        device="cpu",
        threads=plan.threads,
        workers="auto",
        decode=decode,
        quiet=True,
    )


def runner_row(summary, raw: float, target: float) -> dict:
    """The runner's images/s, the split of its time, and its ratio to raw session.run."""
    ratio = summary.images_per_s / raw
    return {
        "runner_ips": summary.images_per_s,
        "raw_ips": raw,
        "ratio": ratio,
        "target": target,
        "meets_target": ratio >= target,
        "failed": summary.failed,
        "split": summary.split,
    }


def runner_vs_raw(onnx_path: Path, size: tuple[int, int, int], plan: StudyPlan, work: Path) -> dict:
    """`run_inference` over PNG files against session.run on pre-decoded tensors, batch 8."""
    folder = work / "pngs"
    write_pngs(folder, size, plan.runner_images)
    summary = infer_inputs(onnx_path, [folder], plan, work / "preds")
    return {
        "images": plan.runner_images,
        "batch": plan.runner_batch,
        "input_size": list(size),
        **runner_row(summary, raw_ips(onnx_path, plan), RUNNER_TARGET),
    }


def achieved_vs_peak(groups: dict[str, list[dict]], peak: PeakResult) -> PeakComparison:
    """The matmul peak next to the achieved GFLOP/s of every ORT configuration measured.

    `groups` maps a label (which model, which input) to its `bench --json` entries.
    """
    rows = [
        PeakRow(
            model=label,
            file=Path(e["model"]).name,
            batch=e["batch"],
            threads=e["threads"],
            gflops=e["gflops"],
            share_of_peak=e["gflops"] / peak.gflops,
        )
        for label, entries in groups.items()
        for e in entries
        if e.get("gflops") and e["mode"] == "session.run"
    ]
    return PeakComparison(peak, rows)
