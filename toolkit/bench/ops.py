"""Where the time goes: onnxruntime's own profiler, per op type and per node.

A separate profiling session runs warmup + timed runs; the JSON trace it writes is parsed,
the warmup runs dropped (by their `model_run` spans), and node kernel times aggregated as
the median over runs (one slow run must not reorder the ranking). The profiler costs time
itself: its median run is shown beside the un-profiled p50 of the timed session.
"""

from __future__ import annotations

import bisect
import json
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from toolkit.errors import CnnkitError

KERNEL_SUFFIX = "_kernel_time"


@dataclass(frozen=True)
class OpTime:
    """Time spent in one op type, per run."""

    op: str
    ms: float
    nodes: int
    share: float


@dataclass(frozen=True)
class NodeTime:
    """Time spent in one graph node, per run."""

    name: str
    op: str
    ms: float
    share: float


@dataclass(frozen=True)
class OpsProfile:
    """Per-run kernel times from the profiler, by op type and for the heaviest nodes."""

    runs: int
    run_ms: float  # median wall time of a profiled run (model_run span)
    kernel_ms: float  # median over runs of the sum of node kernel times
    by_op: tuple[OpTime, ...]
    top_nodes: tuple[NodeTime, ...]
    unprofiled_p50_ms: float | None = None  # the timed session's p50, for the overhead

    @property
    def overhead_ms(self) -> float | None:
        """What profiling adds to a run: profiled median run minus the un-profiled p50."""
        if self.unprofiled_p50_ms is None:
            return None
        return self.run_ms - self.unprofiled_p50_ms

    def with_baseline(self, p50_ms: float) -> OpsProfile:
        """The same profile with the un-profiled p50 it is compared with."""
        return replace(self, unprofiled_p50_ms=p50_ms)

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready), overhead included."""
        return {**asdict(self), "overhead_ms": self.overhead_ms}


def run_spans(events: list[dict]) -> list[tuple[float, float]]:
    """(start, end) in microseconds of every `model_run`, in time order."""
    spans = [
        (float(e["ts"]), float(e["ts"]) + float(e["dur"]))
        for e in events
        if e.get("cat") == "Session" and e.get("name") == "model_run"
    ]
    return sorted(spans)


def kept_node_events(
    events: list[dict], spans: list[tuple[float, float]]
) -> list[tuple[int, dict]]:
    """(run index, event) for node kernel events inside one of the kept run spans."""
    starts = [start for start, _ in spans]
    kept = []
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith(KERNEL_SUFFIX):
            continue
        ts = float(event["ts"])
        index = bisect.bisect_right(starts, ts) - 1
        if index >= 0 and ts <= spans[index][1]:
            kept.append((index, event))
    return kept


def per_run_us(events: list[tuple[int, dict]], runs: int) -> tuple[dict, dict]:
    """({node: [us in run 0, run 1, ...]}, {node: op type}) from kept node events."""
    node_runs: dict[str, list[float]] = {}
    node_op: dict[str, str] = {}
    for run, event in events:
        name = event["name"][: -len(KERNEL_SUFFIX)]
        node_runs.setdefault(name, [0.0] * runs)[run] += float(event["dur"])
        node_op[name] = event.get("args", {}).get("op_name", "?")
    return node_runs, node_op


def parse_trace(events: list[dict], skip_runs: int = 0, top: int = 10) -> OpsProfile:
    """Aggregate a profiler trace: drop the first `skip_runs` runs, median over kept runs."""
    spans = run_spans(events)[skip_runs:]
    if not spans:
        raise CnnkitError(f"profiler trace holds no runs after skipping {skip_runs} warmup runs")
    runs = len(spans)
    node_runs, node_op = per_run_us(kept_node_events(events, spans), runs)
    op_runs: dict[str, list[float]] = defaultdict(lambda: [0.0] * runs)
    op_nodes: dict[str, int] = defaultdict(int)
    for name, values in node_runs.items():
        op_nodes[node_op[name]] += 1
        for run, us in enumerate(values):
            op_runs[node_op[name]][run] += us
    node_us = {name: statistics.median(values) for name, values in node_runs.items()}
    op_us = {op: statistics.median(values) for op, values in op_runs.items()}
    kernel_us = statistics.median([sum(v[run] for v in node_runs.values()) for run in range(runs)])
    total_op, total_node = sum(op_us.values()) or 1.0, sum(node_us.values()) or 1.0
    by_op = sorted(
        (OpTime(op, us / 1e3, op_nodes[op], us / total_op) for op, us in op_us.items()),
        key=lambda o: -o.ms,
    )
    heaviest = sorted(node_us.items(), key=lambda item: -item[1])[:top]
    top_nodes = [NodeTime(n, node_op[n], us / 1e3, us / total_node) for n, us in heaviest]
    run_ms = statistics.median(end - start for start, end in spans) / 1e3
    return OpsProfile(runs, run_ms, kernel_us / 1e3, tuple(by_op), tuple(top_nodes))


def read_trace(path: str | Path) -> list[dict]:
    """The list of events in an onnxruntime profile JSON file."""
    data = json.loads(Path(path).read_text())
    return data["traceEvents"] if isinstance(data, dict) else data


def profile_ops(
    path: str | Path,
    feeds: dict,
    *,
    device: str = "cpu",
    threads: int | None = None,
    warmup: int = 10,
    runs: int = 20,
    top: int = 10,
    allow_fallback: bool = False,
) -> OpsProfile:
    """Run a profiling session on prepared feeds and aggregate its trace."""
    from toolkit.runtime.session import open_session

    handle = open_session(
        path,
        device=device,
        threads=threads,
        allow_fallback=allow_fallback,
        enable_profiling=True,
        quiet=True,
    )
    for _ in range(1 + warmup + runs):  # the first (cold) run is dropped with the warmup
        handle.session.run(None, feeds)
    trace = Path(handle.session.end_profiling())
    try:
        events = read_trace(trace)
    finally:
        trace.unlink(missing_ok=True)
    return parse_trace(events, skip_runs=1 + warmup, top=top)
