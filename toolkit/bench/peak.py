"""The machine's practical float32 peak: a large numpy matrix product, in GFLOP/s.

numpy's BLAS uses its default thread count (normally every core), so this is the
whole machine's peak, the fair yardstick for a run that uses every core.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from toolkit.errors import CnnkitError


@dataclass(frozen=True)
class PeakResult:
    """Best-of-N GFLOP/s of an n x n float32 matrix product."""

    gflops: float
    size: int
    repeats: int
    best_s: float

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def measure_peak(size: int = 2048, repeats: int = 5, seed: int = 0) -> PeakResult:
    """Time `repeats` products of two size x size float32 matrices; keep the fastest."""
    if size < 1 or repeats < 1:
        raise CnnkitError(f"peak: size {size} and repeats {repeats} must be positive")
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), dtype=np.float32)
    np.matmul(a, b, out=out)  # warm the BLAS threads and caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    flops = 2.0 * size**3
    return PeakResult(gflops=flops / best / 1e9, size=size, repeats=repeats, best_s=best)
