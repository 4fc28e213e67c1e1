"""Sweeps: every model x device x threads x batch, measured side by side.

One session per (model, device, threads); each batch size gets its own first run,
warmup and timed runs. Entries carry their ratio to the first model's p50.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.bench.feeds import (
    announce_foreign,
    batch_files,
    image_batch,
    image_reading,
    list_images,
    plan_inputs,
    random_inputs,
)
from toolkit.errors import CnnkitError
from toolkit.progress import progress_bar
from toolkit.timing import Measurement, check_counts, current_rss_mb, peak_rss_mb, time_runs

if TYPE_CHECKING:
    import numpy as np

    from toolkit.bench.ops import OpsProfile
    from toolkit.runtime.session import SessionHandle
    from toolkit.timing import LatencyStats

LATENCY_KEYS = ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "min_ms", "max_ms", "std_ms")


@dataclass(frozen=True)
class BenchConfig:
    """What to measure and how; batches=None means the model's fixed batch or 1."""

    batches: tuple[int, ...] | None = None
    threads: tuple[int, ...] = (os.cpu_count() or 1,)
    devices: tuple[str, ...] = ("cpu",)
    warmup: int = 10
    iterations: int | None = None  # None: 50 timed runs, unless `duration` is given
    duration: float | None = None
    input_size: tuple[int, ...] | dict[str, tuple[int, ...]] | None = None  # dict: per input
    data: Path | None = None
    end_to_end: bool = False
    seed: int = 0
    allow_fallback: bool = False
    ops: int = 0  # heaviest nodes to list from the profiler; 0 = no profiling
    gflops: bool = True  # achieved GFLOP/s from toolkit.profile's FLOPs
    quiet: bool = False
    warn: bool = True  # warn on stderr when the machine is busy (the report warns once)


@dataclass
class BenchEntry:
    """One measured configuration (model, batch, threads, device)."""

    model: str
    batch: int
    threads: int
    device: str
    provider: str
    mode: str  # "session.run", "end-to-end" or "torch-eager"
    input_shape: list[int]
    stats: LatencyStats
    session_s: float
    first_run_ms: float
    peak_rss_mb: float  # the process high-water mark so far (all configurations before it)
    rss_mb: float | None
    gflops: float | None = None
    ratio: float | None = None  # this p50 / the first model's p50 at the same configuration
    ops: dict | None = None
    input_shapes: dict[str, list[int]] | None = None  # every input (JSON: when several)
    peak_gflops: float | None = None  # onnxruntime's measured kernel peak (--peak)
    machine_state: dict | None = None  # load average, usable cores, warnings before timing
    timings_s: tuple[float, ...] = field(default=(), repr=False)

    @property
    def throughput_ips(self) -> float:
        """Images per second over the timed runs."""
        return self.stats.throughput(self.batch)

    def to_dict(self) -> dict:
        """The bench --json entry: identity, latency keys flat, then costs; no raw timings."""
        stats = self.stats.to_dict()
        data = {
            "model": self.model,
            "batch": self.batch,
            "threads": self.threads,
            "device": self.device,
            "provider": self.provider,
            "mode": self.mode,
            "input_shape": self.input_shape,
            "iterations": stats["count"],
            **{k: stats[k] for k in LATENCY_KEYS},
            "throughput_ips": self.throughput_ips,
            "session_s": self.session_s,
            "first_run_ms": self.first_run_ms,
            "peak_rss_mb": self.peak_rss_mb,
            "rss_mb": self.rss_mb,
            "gflops": self.gflops,
            "ratio": self.ratio,
            "speedup": 1.0 / self.ratio if self.ratio else None,
        }
        if self.peak_gflops:
            data["peak_gflops"] = self.peak_gflops
            data["efficiency"] = self.gflops / self.peak_gflops if self.gflops else None
        if self.ops is not None:
            data["ops"] = self.ops
        if self.input_shapes and len(self.input_shapes) > 1:
            data["input_shapes"] = self.input_shapes
        if self.machine_state is not None:
            data["machine_state"] = self.machine_state
        return data


def check_config(config: BenchConfig) -> None:
    """Refuse zero or negative batches/threads and a missing --data for --end-to-end."""
    for flag, values in (("--batch-size", config.batches or ()), ("--threads", config.threads)):
        bad = [v for v in values if v < 1]
        if bad:
            raise CnnkitError(f"{flag} {bad[0]}: must be at least 1")
    if not config.devices:
        raise CnnkitError("--device: give at least one device")
    if config.end_to_end and config.data is None:
        raise CnnkitError("--end-to-end needs --data DIR (the images to decode on the clock)")
    check_counts(config.warmup, config.iterations, config.duration)
    if config.ops < 0:
        raise CnnkitError(f"--ops {config.ops}: must be 0 or more")


def make_entry(
    handle: SessionHandle,
    batch: int,
    threads: int,
    mode: str,
    feeds_shape: Sequence[int],
    measurement: Measurement,
) -> BenchEntry:
    """A BenchEntry from an open session and one measurement."""
    return BenchEntry(
        model=str(handle.path),
        batch=batch,
        threads=threads,
        device=handle.device,
        provider=handle.providers[0],
        mode=mode,
        input_shape=list(feeds_shape),
        stats=measurement.stats,
        session_s=handle.create_s,
        first_run_ms=measurement.first_run_s * 1e3,
        peak_rss_mb=peak_rss_mb(),
        rss_mb=current_rss_mb(),
        timings_s=measurement.timings_s,
    )


def session_runner(handle: SessionHandle, feeds: dict) -> Callable[[], object]:
    """A zero-argument call of session.run on prepared feeds (IOBinding on CUDA, synced)."""
    session = handle.session
    if handle.cuda_device_id is None:
        return lambda: session.run(None, feeds)
    from toolkit.runtime.session import bind_on_device

    # Inputs go to the GPU before the clock; outputs stay there; each run synchronises.
    binding = bind_on_device(handle, feeds, [output.name for output in session.get_outputs()])

    def run() -> None:
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()

    return run


def runner_for(
    handle: SessionHandle, batch: int, config: BenchConfig, announce: bool
) -> tuple[Callable, dict, str]:
    """(the call to time, the prepared feeds, the mode) for one batch size."""
    plans = plan_inputs(handle, batch, config.input_size)
    if config.data is None:
        if announce:
            announce_foreign(handle, plans)
        feeds = random_inputs(plans, config.seed)
        return session_runner(handle, feeds), feeds, "session.run"
    files = batch_files(list_images(config.data), batch)
    reading = image_reading(handle, plans[0], announce)
    name = plans[0].name
    # the image input first; the others stay random
    feeds = {
        name: image_batch(reading, files),
        **random_inputs(plans[1:], config.seed),
    }
    if not config.end_to_end:
        return session_runner(handle, feeds), feeds, "session.run"
    session = handle.session
    # The clock covers decoding and preprocessing every file, then session.run.
    return (
        lambda: session.run(None, {**feeds, name: image_batch(reading, files)}),
        feeds,
        "end-to-end",
    )


def bench_session(
    handle: SessionHandle,
    threads: int,
    batches: Sequence[int],
    config: BenchConfig,
    advance: Callable[[str], None],
    keep: dict[int, np.ndarray] | None,
) -> list[BenchEntry]:
    """Measure every batch size on one open session; `keep` collects the image inputs."""
    entries = []
    for index, batch in enumerate(batches):
        advance(f"{handle.path.name} b{batch} t{threads} {handle.device}")
        run, feeds, mode = runner_for(handle, batch, config, announce=index == 0)
        measurement = time_runs(
            run, warmup=config.warmup, iterations=config.iterations, duration=config.duration
        )
        array = next(iter(feeds.values()))  # the image input comes first
        entry = make_entry(handle, batch, threads, mode, array.shape, measurement)
        entry.input_shapes = {name: list(value.shape) for name, value in feeds.items()}
        if keep is not None:
            keep.setdefault(batch, array)
        if config.ops:
            profile = profile_entry(handle, threads, feeds, config)
            entry.ops = profile.with_baseline(measurement.stats.p50_ms).to_dict()
        entries.append(entry)
    return entries


def profile_entry(
    handle: SessionHandle, threads: int, feeds: dict, config: BenchConfig
) -> OpsProfile:
    """onnxruntime's profiler on the same feeds (a separate session, never on the clock)."""
    from toolkit.bench.ops import profile_ops

    runs = config.iterations if config.iterations is not None else 20
    return profile_ops(
        handle.path,
        feeds,
        device=handle.device.split(":")[0],
        threads=threads,
        warmup=config.warmup,
        runs=min(runs, 100),
        top=config.ops,
        allow_fallback=True,  # the timed session already settled the device
    )


def batches_for(handle: SessionHandle, config: BenchConfig) -> tuple[int, ...]:
    """The batch sizes to run: as asked, or the model's fixed batch (else 1)."""
    if config.batches:
        return config.batches
    return (handle.fixed_batch or 1,)


def sweep(
    paths: Sequence[str | Path], config: BenchConfig, first_inputs: dict | None = None
) -> list[BenchEntry]:
    """Measure every model on every device, thread count and batch size.

    `first_inputs`, when given, receives the first model's input array per batch size, so
    a comparison (torch eager) can run on exactly the same tensors.
    """
    from toolkit.runtime.session import open_session

    check_config(config)
    total = len(paths) * len(config.devices) * len(config.threads) * len(config.batches or (1,))
    entries: list[BenchEntry] = []
    with progress_bar(config.quiet) as bar:
        task = bar.add_task("bench", total=total, status="")

        def advance(status: str) -> None:
            bar.update(task, status=status)

        for path in paths:
            for device in config.devices:
                for threads in config.threads:
                    handle = open_session(
                        path,
                        device=device,
                        threads=threads,
                        allow_fallback=config.allow_fallback,
                        quiet=config.quiet,
                    )
                    batches = batches_for(handle, config)
                    keep = first_inputs if path == paths[0] else None
                    entries += bench_session(handle, threads, batches, config, advance, keep)
                    bar.advance(task, len(batches))
                    del handle
    return entries


def add_ratios(entries: list[BenchEntry]) -> None:
    """Set each entry's ratio: its p50 over the first model's p50 at the same config."""
    if len({e.model for e in entries}) < 2:
        return  # nothing to compare against
    first_model = entries[0].model
    baseline = {
        (e.batch, e.threads, e.device): e.stats.p50_ms for e in entries if e.model == first_model
    }
    for entry in entries:
        base = baseline.get((entry.batch, entry.threads, entry.device))
        entry.ratio = entry.stats.p50_ms / base if base else None
