"""`cnnkit bench --against-torch`: the same inputs through torch eager (inference mode,
same thread count), timed with the same loop as onnxruntime.

Outside toolkit.bench on purpose: the bench package never imports torch (import-linter's
contract in pyproject.toml), so the eager side sits above it and above toolkit.train, and
`run_bench` receives it as a callable (`eager=against_torch(checkpoint)`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.bench.sweep import BenchConfig, BenchEntry
from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.progress import note
from toolkit.timing import current_rss_mb, peak_rss_mb, time_runs

if TYPE_CHECKING:
    from torch import nn


def load_eager_model(source: str | Path) -> tuple[nn.Module, ModelMeta, float]:
    """(model in eval mode, its metadata, seconds to load) from a checkpoint or run folder."""
    from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint

    start = time.perf_counter()
    checkpoint = load_checkpoint(source)
    model = model_from_checkpoint(checkpoint)
    meta = ModelMeta.from_checkpoint(checkpoint, checkpoint["path"])
    return model, meta, time.perf_counter() - start


def eager_runner(model: nn.Module, array: np.ndarray) -> Callable[[], object]:
    """A zero-argument forward pass on a tensor made before the clock (zero-copy view)."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))

    def run():
        with torch.inference_mode():
            return model(tensor)

    return run


def bench_module(
    model: nn.Module,
    label: str,
    feeds_by_batch: dict[int, np.ndarray],
    threads: int,
    config: BenchConfig,
    load_s: float = 0.0,
) -> list[BenchEntry]:
    """Time a torch module at each batch on the given arrays with `threads` torch threads."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    entries = []
    try:
        for batch, array in feeds_by_batch.items():
            measurement = time_runs(
                eager_runner(model, array),
                warmup=config.warmup,
                iterations=config.iterations,
                duration=config.duration,
            )
            entries.append(
                BenchEntry(
                    model=label,
                    batch=batch,
                    threads=threads,
                    device="cpu",
                    provider="torch " + torch.__version__,
                    mode="torch-eager",
                    input_shape=list(array.shape),
                    stats=measurement.stats,
                    session_s=load_s,
                    first_run_ms=measurement.first_run_s * 1e3,
                    peak_rss_mb=peak_rss_mb(),
                    rss_mb=current_rss_mb(),
                    timings_s=measurement.timings_s,
                )
            )
    finally:
        torch.set_num_threads(previous)
    return entries


def torch_entries(source: Path, config: BenchConfig, first_inputs: dict) -> list[BenchEntry]:
    """The first model's exact inputs through torch eager, per thread count (CPU only)."""
    if "cpu" not in config.devices:
        note("note: --against-torch runs torch on CPU only; add cpu to --device")
        return []
    model, meta, load_s = load_eager_model(source)
    expected = meta.input_size or ()
    for array in first_inputs.values():
        if config.input_size is None and expected and tuple(array.shape[1:]) != expected:
            raise CnnkitError(
                f"--against-torch {source}: its input is {list(expected)}, the first model's "
                f"is {list(array.shape[1:])}"
            )
    label = f"{source} (torch eager)"
    entries = []
    for threads in config.threads:
        entries += bench_module(model, label, dict(first_inputs), threads, config, load_s)
    return entries


def against_torch(source: str | Path) -> Callable[[BenchConfig, dict], list[BenchEntry]]:
    """The eager side for `run_bench(eager=...)`: a checkpoint or run folder's model, loaded
    after the onnxruntime sweep and timed on the first model's exact inputs."""
    return functools.partial(torch_entries, Path(source))
