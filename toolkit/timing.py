"""Timing loops and latency statistics, shared by export (fp32 vs int8) and bench.

Torch-free and below both: a first run, warmup runs, then timed runs by count or by
duration; the clock covers only the callable it is given (inputs are prepared before it).
Results are numbers (`LatencyStats`), formatted only at the edge.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError


@dataclass(frozen=True)
class LatencyStats:
    """Summary of per-run latencies, in milliseconds."""

    count: int
    min_ms: float
    max_ms: float
    mean_ms: float
    std_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    total_s: float

    @classmethod
    def from_timings(cls, seconds: Sequence[float]) -> LatencyStats:
        """Summarise per-run wall times given in seconds (percentiles interpolate linearly)."""
        if len(seconds) == 0:
            raise ValueError("no timings to summarise")
        ms = np.asarray(seconds, dtype=np.float64) * 1e3
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        return cls(
            count=int(ms.size),
            min_ms=float(ms.min()),
            max_ms=float(ms.max()),
            mean_ms=float(ms.mean()),
            # Sample standard deviation: the runs are a sample of the latency distribution.
            std_ms=float(ms.std(ddof=1)) if ms.size > 1 else 0.0,
            p50_ms=float(p50),
            p90_ms=float(p90),
            p99_ms=float(p99),
            total_s=float(ms.sum() / 1e3),
        )

    def throughput(self, batch: int) -> float:
        """Images per second: all images processed over all timed runs' total time."""
        return batch * self.count / self.total_s if self.total_s > 0 else float("inf")

    def to_dict(self) -> dict:
        """Plain dict of the fields (JSON-ready)."""
        return asdict(self)


DEFAULT_ITERATIONS = 50


@dataclass(frozen=True)
class Measurement:
    """Per-run timings of one configuration and its first (cold) run."""

    timings_s: tuple[float, ...]
    first_run_s: float
    stats: LatencyStats


def check_counts(warmup: int, iterations: int | None, duration: float | None) -> None:
    """Refuse negative warmup, non-positive iterations/duration, or both at once."""
    if warmup < 0:
        raise CnnkitError(f"--warmup {warmup}: must be 0 or more")
    if iterations is not None and duration is not None:
        raise CnnkitError("--iterations and --duration: give one, not both")
    if iterations is not None and iterations < 1:
        raise CnnkitError(f"--iterations {iterations}: must be at least 1")
    if duration is not None and not duration > 0:
        raise CnnkitError(f"--duration {duration}: must be a positive number of seconds")


def timed(run: Callable[[], object]) -> float:
    """Wall seconds of one call."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def time_runs(
    run: Callable[[], object],
    *,
    warmup: int = 10,
    iterations: int | None = None,
    duration: float | None = None,
) -> Measurement:
    """Time `run`: one cold first run, `warmup` untimed runs, then the timed runs.

    Timed runs: `iterations` of them, or as many as fit in `duration` seconds; 50 by default.
    """
    if duration is None and iterations is None:
        iterations = DEFAULT_ITERATIONS
    check_counts(warmup, iterations, duration)
    first = timed(run)
    for _ in range(warmup):
        run()
    timings: list[float] = []
    if duration is not None:
        deadline = time.perf_counter() + duration
        while not timings or time.perf_counter() < deadline:
            timings.append(timed(run))
    else:
        timings = [timed(run) for _ in range(iterations)]
    return Measurement(tuple(timings), first, LatencyStats.from_timings(timings))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux: VmHWM from /proc, which starts afresh at exec; getrusage's ru_maxrss would
    carry over the high-water mark of a large parent that forked this process.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """Resident set size right now in MiB (Linux /proc), None where unavailable."""
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        return None
    pages = int(statm.read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
