"""`make bench`'s serving section: `cnnkit serve` against raw session.run, in one run.

The figures of issues 15 and 28, each measured next to its reference:
- ResNet-18 at concurrency 16 (dynamic batching up to --max-batch 16) in requests/s
  against session.run images/s at batch 16 on pre-decoded tensors (target >= 0.85x);
- p50 client latency at concurrency 1 against raw batch-1 session.run p50 (target: at
  most 3 ms more: HTTP, PNG decode, preprocessing, queue);
- LeNet-5 on digits at concurrency 64: requests/s with batching over --max-batch 1;
- ResNet-18 at concurrency 16 over the Open Inference Protocol with binary tensors against
  /v1 (target >= 0.95x);
- the soak (toolkit.study.serve_soak): RSS growth over many requests of mixed sizes.
The server is a real `cnnkit serve` process on a free 127.0.0.1 port, driven by the load
generator of `cnnkit bench --serve`; both share this machine's cores.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.bench import run_bench
from toolkit.errors import CnnkitError
from toolkit.runfolder import RunFolder
from toolkit.serve.config import announced_url, read_announcement
from toolkit.serve.loadgen import LevelResult, LoadConfig, run_load
from toolkit.study.comparisons import bench_config, write_pngs
from toolkit.study.prepare import export
from toolkit.study.serve_soak import soak

if TYPE_CHECKING:
    from toolkit.study.plan import StudyPlan

SERVE_TARGET = 0.85  # serve requests/s over raw session.run images/s
LATENCY_BUDGET_MS = 3.0  # serve p50 at concurrency 1 over raw batch-1 p50
V2_TARGET = 0.95  # requests/s over the Open Inference Protocol (binary) over /v1's


@contextlib.contextmanager
def served_process(name: str, model: Path, *args: str) -> Iterator[tuple[str, int]]:
    """A `cnnkit serve` process on a free 127.0.0.1 port serving one model: (model URL, pid)."""
    command = [sys.executable, "-m", "toolkit.cli", "serve", f"{name}={model}", "--quiet"]
    command += ["--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        url = announced_url(read_announcement(process.stderr))
        yield f"{url}/v1/models/{name}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        process.stderr.close()


@contextlib.contextmanager
def served(name: str, model: Path, *args: str) -> Iterator[str]:
    """A `cnnkit serve` process on a free 127.0.0.1 port serving one model; its model URL."""
    with served_process(name, model, *args) as (url, _):
        yield url


def load(
    url: str, pngs: list[Path], concurrency: int, plan: StudyPlan, protocol: str = "v1"
) -> LevelResult:
    """One concurrency level of the load generator (--protocol v1 or v2)."""
    config = LoadConfig(
        url=url,
        inputs=tuple(str(p) for p in pngs),
        concurrency=(concurrency,),
        duration_s=plan.serve_duration_s,
        warmup_s=min(1.0, plan.serve_duration_s / 5),
        protocol=protocol,
    )
    (level,) = run_load(config)
    if level.errors:
        raise CnnkitError(f"{url}: {level.errors} requests failed ({level.statuses})")
    return level


def raw(onnx_path: Path, batch: int, plan: StudyPlan) -> dict:
    """session.run on pre-decoded tensors at one batch size (the bench entry)."""
    (entry,) = run_bench([onnx_path], bench_config(plan, [batch]), save=False).json_value()
    return entry


def level_dict(level: LevelResult) -> dict:
    """The numbers of one level the report keeps."""
    server = level.server
    return {
        "concurrency": level.concurrency,
        "requests_per_s": level.requests_per_s,
        "p50_ms": level.p50_ms,
        "p99_ms": level.p99_ms,
        "mean_batch": server.mean_batch if server else None,
        "queue_wait_ms": server.queue_wait_ms if server else None,
        "compute_ms": server.compute_ms if server else None,
    }


def big_model(onnx_path: Path, size: tuple[int, int, int], plan: StudyPlan, work: Path) -> dict:
    """Throughput at concurrency 16 and latency at concurrency 1 against raw session.run."""
    pngs = write_pngs(work / "serve-pngs", size, 32)
    batch = plan.serve_batch
    threads = str(plan.threads)
    args = ("--max-batch", str(batch), "--max-delay-ms", str(plan.serve_delay_ms))
    with served("big", onnx_path, *args, "--threads", threads) as url:
        busy = load(url, pngs, plan.serve_concurrency, plan)
        busy_v2 = load(url, pngs, plan.serve_concurrency, plan, protocol="v2")
        alone = load(url, pngs[:1], 1, plan)
    raw_batch, raw_one = raw(onnx_path, batch, plan), raw(onnx_path, 1, plan)
    ratio = busy.requests_per_s / raw_batch["throughput_ips"]
    overhead = alone.p50_ms - raw_one["p50_ms"]
    return {
        "input_size": list(size),
        "batch": batch,
        "max_delay_ms": plan.serve_delay_ms,
        "busy": level_dict(busy),
        "busy_v2": level_dict(busy_v2),
        "v2_ratio": busy_v2.requests_per_s / busy.requests_per_s,
        "v2_target": V2_TARGET,
        "alone": level_dict(alone),
        "raw_batch_ips": raw_batch["throughput_ips"],
        "raw_one_p50_ms": raw_one["p50_ms"],
        "throughput_ratio": ratio,
        "throughput_target": SERVE_TARGET,
        "meets_throughput": ratio >= SERVE_TARGET,
        "latency_overhead_ms": overhead,
        "latency_budget_ms": LATENCY_BUDGET_MS,
        "meets_latency": overhead <= LATENCY_BUDGET_MS,
    }


def lenet_onnx(work: Path) -> Path:
    """LeNet-5 for digits (10 classes, 1x32x32) with seeded random weights, exported."""
    import torch

    from toolkit import models
    from toolkit.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = models.build("lenet5", num_classes=10, in_channels=1)
    folder = work / "serve-lenet5"
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model": "lenet5",
        "model_args": {"num_classes": 10, "in_channels": 1},
        "task": "classification",
        "classes": [str(i) for i in range(10)],
        "input_size": [1, 32, 32],
        "mean": [0.5],
        "std": [0.5],
        "state_dict": model.state_dict(),
    }
    return export(
        save_checkpoint(checkpoint, RunFolder(folder).best), RunFolder(folder).onnx, False
    )


def small_model(onnx_path: Path, plan: StudyPlan, work: Path) -> dict:
    """LeNet-5 at concurrency 64: requests/s with batching against --max-batch 1."""
    pngs = write_pngs(work / "serve-digits", (1, 32, 32), 64)
    rates = {}
    for max_batch in (plan.small_batch, 1):
        args = ("--max-batch", str(max_batch), "--max-delay-ms", str(plan.serve_delay_ms))
        with served("lenet5", onnx_path, *args, "--threads", str(plan.threads)) as url:
            rates[max_batch] = load(url, pngs, plan.small_concurrency, plan)
    batched, single = rates[plan.small_batch], rates[1]
    return {
        "model": "lenet5",
        "input_size": [1, 32, 32],
        "concurrency": plan.small_concurrency,
        "batched": {"max_batch": plan.small_batch, **level_dict(batched)},
        "single": {"max_batch": 1, **level_dict(single)},
        "ratio": batched.requests_per_s / single.requests_per_s,
    }


def serve_vs_raw(onnx_path: Path, size: tuple[int, int, int], plan: StudyPlan, work: Path):
    """The serving section: the big model's figures, LeNet-5's batching ratio, the soak."""
    lenet = lenet_onnx(work)
    return {
        "big": big_model(onnx_path, tuple(size), plan, work),
        "lenet5": small_model(lenet, plan, work),
        "soak": soak(lenet, plan, work),
    }
