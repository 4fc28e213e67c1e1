"""Before timing: load average, usable cores and the CPU's vector extensions, recorded."""

from __future__ import annotations

import pytest

from toolkit.bench import machine
from toolkit.bench.machine import ISA_FLAGS, int8_ratio, machine_state, vector_extensions
from toolkit.bench.peak import measure_peak
from toolkit.runtime.workers import Cores


def test_vector_extensions_and_the_int8_ratio_they_allow():
    assert set(vector_extensions()) <= set(ISA_FLAGS)
    assert int8_ratio(["avx2", "fma"])["ratio"] == 2.0
    assert int8_ratio(["avx2", "avx512f", "avx512_vnni"])["ratio"] == 4.0
    assert "AMX" in int8_ratio(["avx512_vnni", "amx_int8"])["why"]
    assert int8_ratio([])["ratio"] == 1.0


def test_a_busy_or_fenced_machine_is_warned_about(monkeypatch):
    monkeypatch.setattr(machine, "load_average", lambda: (3.5, 2.0, 1.0))
    monkeypatch.setattr(machine, "usable_cores", lambda: Cores(8, 8, 2.0, 2))
    state = machine_state()
    assert state["load_average"] == [3.5, 2.0, 1.0] and state["cores"]["quota"] == 2.0
    assert any("load average 3.50" in w for w in state["warnings"])
    assert any("CPU quota 2 leaves this process 2 of 8 cores" in w for w in state["warnings"])
    monkeypatch.setattr(machine, "load_average", lambda: (0.1, 0.1, 0.1))
    monkeypatch.setattr(machine, "usable_cores", lambda: Cores(2, 2, None, 2))
    assert machine_state()["warnings"] == []


def test_bench_json_records_the_state_and_warns_on_stderr(lenet, monkeypatch, capsys):
    from toolkit.bench import BenchConfig, run_bench

    monkeypatch.setattr(machine, "load_average", lambda: (9.0, 9.0, 9.0))
    config = BenchConfig(warmup=0, iterations=2, threads=(1,), gflops=False, quiet=True)
    (entry,) = run_bench([lenet["onnx"]], config, save=False).json_value()
    assert entry["machine_state"]["load_average"] == [9.0, 9.0, 9.0]
    assert "warning: 1-minute load average 9.00" in capsys.readouterr().err


def test_peak_comes_from_onnxruntime_conv_and_matmul():
    peak = measure_peak(size=256, repeats=1, threads=1)
    assert set(peak.kernels) == {"matmul", "conv"} and peak.threads == 1
    assert peak.gflops == pytest.approx(max(peak.kernels.values())) and peak.best_s > 0
