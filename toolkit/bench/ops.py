"""Where the time goes: onnxruntime's own profiler, per op type and per node.

A separate profiling session runs warmup + timed runs; the JSON trace it writes is parsed,
the warmup runs dropped (by their `model_run` spans), and node kernel times aggregated.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
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
    run_ms: float  # mean wall time of a profiled run (model_run span)
    kernel_ms: float  # sum of node kernel times per run
    by_op: tuple[OpTime, ...]
    top_nodes: tuple[NodeTime, ...]

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return asdict(self)


def run_spans(events: list[dict]) -> list[tuple[float, float]]:
    """(start, end) in microseconds of every `model_run`, in time order."""
    spans = [
        (float(e["ts"]), float(e["ts"]) + float(e["dur"]))
        for e in events
        if e.get("cat") == "Session" and e.get("name") == "model_run"
    ]
    return sorted(spans)


def kept_node_events(events: list[dict], spans: list[tuple[float, float]]) -> list[dict]:
    """Node kernel events that fall inside one of the kept run spans."""
    starts = [start for start, _ in spans]
    kept = []
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith(KERNEL_SUFFIX):
            continue
        ts = float(event["ts"])
        index = bisect.bisect_right(starts, ts) - 1
        if index >= 0 and ts <= spans[index][1]:
            kept.append(event)
    return kept


def parse_trace(events: list[dict], skip_runs: int = 0, top: int = 10) -> OpsProfile:
    """Aggregate a profiler trace: drop the first `skip_runs` runs, mean per kept run."""
    spans = run_spans(events)[skip_runs:]
    if not spans:
        raise CnnkitError(f"profiler trace holds no runs after skipping {skip_runs} warmup runs")
    nodes = kept_node_events(events, spans)
    runs = len(spans)
    node_us: dict[str, float] = defaultdict(float)
    node_op: dict[str, str] = {}
    for event in nodes:
        name = event["name"][: -len(KERNEL_SUFFIX)]
        node_us[name] += float(event["dur"])
        node_op[name] = event.get("args", {}).get("op_name", "?")
    total_us = sum(node_us.values()) or 1.0
    op_us: dict[str, float] = defaultdict(float)
    op_nodes: dict[str, int] = defaultdict(int)
    for name, us in node_us.items():
        op_us[node_op[name]] += us
        op_nodes[node_op[name]] += 1
    by_op = sorted(
        (OpTime(op, us / runs / 1e3, op_nodes[op], us / total_us) for op, us in op_us.items()),
        key=lambda o: -o.ms,
    )
    heaviest = sorted(node_us.items(), key=lambda item: -item[1])[:top]
    top_nodes = [NodeTime(n, node_op[n], us / runs / 1e3, us / total_us) for n, us in heaviest]
    run_ms = sum(end - start for start, end in spans) / runs / 1e3
    return OpsProfile(runs, run_ms, total_us / runs / 1e3, tuple(by_op), tuple(top_nodes))


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
