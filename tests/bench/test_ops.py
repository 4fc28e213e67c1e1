"""onnxruntime profiler traces: warmup runs dropped, per-op and per-node times."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.bench.ops import parse_trace, profile_ops
from toolkit.errors import CnnkitError


def run_event(ts, dur):
    return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur}


def node_event(name, op, ts, dur):
    return {
        "cat": "Node",
        "name": f"{name}_kernel_time",
        "ts": ts,
        "dur": dur,
        "args": {"op_name": op},
    }


def synthetic_trace():
    """Three runs of two convs and a gemm; the first (warmup) run is 100x slower."""
    events = []
    for run, (start, scale) in enumerate([(0, 100), (1000, 1), (2000, 1)]):
        events.append(run_event(start, 900))
        events.append(node_event("conv1", "Conv", start + 10, 30 * scale))
        events.append(node_event("conv2", "Conv", start + 50, 50 * scale))
        events.append(node_event("fc", "Gemm", start + 200, 20 * scale + run))
    events.append({"cat": "Session", "name": "session_initialization", "ts": -50, "dur": 40})
    return events


def test_warmup_runs_are_dropped_and_times_averaged_per_run():
    profile = parse_trace(synthetic_trace(), skip_runs=1, top=2)
    assert profile.runs == 2
    conv, gemm = profile.by_op
    assert (conv.op, conv.nodes) == ("Conv", 2)
    assert conv.ms == pytest.approx(0.080)  # (30 + 50) us per run
    assert gemm.ms == pytest.approx((21 + 22) / 2 / 1e3)
    assert conv.share + gemm.share == pytest.approx(1.0)
    assert [n.name for n in profile.top_nodes] == ["conv2", "conv1"]
    assert profile.kernel_ms == pytest.approx(0.080 + 0.0215)
    assert profile.run_ms == pytest.approx(0.9)


def test_one_slow_run_does_not_move_the_median():
    profile = parse_trace(synthetic_trace(), skip_runs=0, top=5)
    assert profile.runs == 3
    assert profile.by_op[0].ms == pytest.approx(0.080)  # the 100x-slow run is outvoted
    assert [n.name for n in profile.top_nodes] == ["conv2", "conv1", "fc"]


def test_overhead_is_the_profiled_run_minus_the_unprofiled_p50():
    profile = parse_trace(synthetic_trace(), skip_runs=1).with_baseline(0.25)
    assert profile.overhead_ms == pytest.approx(0.9 - 0.25)
    data = profile.to_dict()
    assert data["unprofiled_p50_ms"] == 0.25 and data["overhead_ms"] == pytest.approx(0.65)


def test_skipping_every_run_is_an_error():
    with pytest.raises(CnnkitError, match="no runs"):
        parse_trace(synthetic_trace(), skip_runs=3)


def test_real_profiler_trace_of_lenet(lenet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # onnxruntime writes its trace into the working folder
    feeds = {"input": np.zeros((2, 1, 32, 32), np.float32)}
    profile = profile_ops(lenet["onnx"], feeds, threads=1, warmup=2, runs=3, top=3)
    assert profile.runs == 3
    assert "Conv" in {op.op for op in profile.by_op}
    assert len(profile.top_nodes) == 3
    assert all(op.ms > 0 for op in profile.by_op)
    assert sum(op.share for op in profile.by_op) == pytest.approx(1.0)
    assert list(tmp_path.iterdir()) == []  # the trace file is removed after parsing
