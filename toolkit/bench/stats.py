"""Latency statistics from a list of per-run timings (numbers only, formatted at the edge)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


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
