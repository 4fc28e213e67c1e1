"""Latency and throughput of ONNX models: `cnnkit bench`, `cnnkit compare`, `make bench`.

Torch-free: only `toolkit.bench.eager` (the torch eager comparison), `compare` (exports
the zoo) and `report` import torch, lazily, and this __init__ imports none of them.
"""

from toolkit.bench.measure import Measurement, time_runs
from toolkit.bench.ops import OpsProfile, parse_trace, profile_ops
from toolkit.bench.peak import PeakResult, measure_peak
from toolkit.bench.runner import BenchResult, run_bench
from toolkit.bench.stats import LatencyStats
from toolkit.bench.sweep import BenchConfig, BenchEntry

__all__ = [
    "BenchConfig",
    "BenchEntry",
    "BenchResult",
    "LatencyStats",
    "Measurement",
    "OpsProfile",
    "PeakResult",
    "measure_peak",
    "parse_trace",
    "profile_ops",
    "run_bench",
    "time_runs",
]
