"""Latency and throughput of ONNX models: the engine of `cnnkit bench` and `cnnkit compare`.

Torch-free, every module: the torch eager side of `--against-torch` lives in
`toolkit.bench_eager`, and the studies that train and export (`make bench`, the zoo
comparison) in `toolkit.study`. import-linter holds this (pyproject.toml).
"""

from toolkit.bench.benchmark import BenchResult, run_bench
from toolkit.bench.ops import OpsProfile, parse_trace, profile_ops
from toolkit.bench.peak import PeakResult, measure_peak
from toolkit.bench.sweep import BenchConfig, BenchEntry
from toolkit.timing import LatencyStats, Measurement, time_runs

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
