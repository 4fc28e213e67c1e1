"""The measurement loop: a first run, warmup runs, then timed runs by count or by duration.

The clock covers only the callable it is given; inputs are prepared before it is built.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.bench.stats import LatencyStats
from toolkit.errors import CnnkitError

if TYPE_CHECKING:
    from toolkit.runtime.session import SessionHandle

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
    import os

    pages = int(statm.read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def session_runner(handle: SessionHandle, feeds: dict) -> Callable[[], object]:
    """A zero-argument call of session.run on prepared feeds (IOBinding on CUDA, synced)."""
    session = handle.session
    device_id = getattr(handle, "cuda_device_id", None)
    if device_id is None:
        return lambda: session.run(None, feeds)
    import onnxruntime as ort

    # Inputs go to the GPU before the clock; outputs stay there; each run synchronises.
    binding = session.io_binding()
    for name, array in feeds.items():
        on_device = ort.OrtValue.ortvalue_from_numpy(array, "cuda", device_id)
        binding.bind_ortvalue_input(name, on_device)
    for output in session.get_outputs():
        binding.bind_output(output.name, "cuda", device_id)

    def run() -> None:
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()

    return run
