"""run_bench on real ONNX files: structure and sane numbers, never timing thresholds."""

from __future__ import annotations

import json

import pytest

from toolkit.bench import BenchConfig, run_bench
from toolkit.errors import CnnkitError

KEYS = (
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "mean_ms",
    "min_ms",
    "max_ms",
    "std_ms",
    "throughput_ips",
    "session_s",
    "first_run_ms",
    "peak_rss_mb",
)
TINY = {"warmup": 1, "iterations": 3, "threads": (1,), "gflops": False, "quiet": True}


def check_entry(row: dict) -> None:
    """Every contract key is a sane positive number and the percentiles are ordered."""
    for key in KEYS:
        assert isinstance(row[key], float) and row[key] >= 0, (key, row[key])
    assert row["min_ms"] <= row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"] <= row["max_ms"]
    assert row["min_ms"] > 0 and row["throughput_ips"] > 0 and row["peak_rss_mb"] > 10
    assert row["mean_ms"] < 10_000  # a LeNet run taking 10 s would be a bug, not a slow box


def test_one_model_three_iterations(lenet):
    result = run_bench([lenet["onnx"]], BenchConfig(**TINY), save=False)
    (row,) = result.json_value()
    check_entry(row)
    assert row["iterations"] == 3
    assert (row["batch"], row["threads"], row["device"]) == (1, 1, "cpu")
    assert row["provider"] == "CPUExecutionProvider"
    assert row["mode"] == "session.run"
    assert row["input_shape"] == [1, 1, 32, 32]
    assert row["ratio"] is None  # nothing to compare against
    json.dumps(row)  # JSON-ready


def test_batch_and_threads_sweep(lenet):
    config = BenchConfig(**{**TINY, "threads": (1, 2)}, batches=(1, 4))
    rows = run_bench([lenet["onnx"]], config, save=False).json_value()
    assert [(r["threads"], r["batch"]) for r in rows] == [(1, 1), (1, 4), (2, 1), (2, 4)]
    for row in rows:
        check_entry(row)
        assert row["input_shape"][0] == row["batch"]


def test_int8_and_fp32_side_by_side_with_ratio(lenet, capsys):
    from toolkit.bench.text import print_bench

    result = run_bench([lenet["onnx"], lenet["int8"]], BenchConfig(**TINY), save=False)
    fp32, int8 = result.json_value()
    assert fp32["ratio"] == pytest.approx(1.0)
    assert int8["ratio"] == pytest.approx(int8["p50_ms"] / fp32["p50_ms"])
    assert int8["speedup"] == pytest.approx(1 / int8["ratio"])
    print_bench(result)
    out = capsys.readouterr().out
    # a ratio, or 'unstable' when the timings' spread makes one noise (tests/bench/test_text.py)
    verdict = "model.int8.onnx is" in out and "than lenet/model.onnx" in out
    assert verdict or "model.int8.onnx vs lenet/model.onnx: unstable" in out


def test_bench_json_is_written_beside_a_run_folder_model(lenet, capsys):
    saved = run_bench([lenet["onnx"]], BenchConfig(**TINY)).saved
    assert saved == [lenet["run"].resolve() / "bench.json"]
    rows = json.loads(saved[0].read_text())
    assert rows[0]["model"] == str(lenet["onnx"])
    assert "wrote" in capsys.readouterr().err


def test_foreign_model_takes_random_inputs_of_input_size(lenet, capsys):
    config = BenchConfig(**TINY, input_size=(1, 40, 48))
    (row,) = run_bench([lenet["foreign"]], config, save=False).json_value()
    assert row["input_shape"] == [1, 1, 40, 48]
    check_entry(row)
    assert "no cnnkit metadata" in capsys.readouterr().err


def test_foreign_model_with_dynamic_dims_needs_input_size(lenet):
    with pytest.raises(CnnkitError, match="--input-size"):
        run_bench([lenet["foreign"]], BenchConfig(**TINY), save=False)


def test_fixed_batch_model_defaults_to_its_batch_and_refuses_larger(lenet):
    config = BenchConfig(**TINY, input_size=(1, 32, 32))
    (row,) = run_bench([lenet["fixed"]], config, save=False).json_value()
    assert row["batch"] == 1
    with pytest.raises(CnnkitError, match="fixed batch dimension of 1"):
        run_bench([lenet["fixed"]], BenchConfig(**TINY, batches=(4,), input_size=(1, 32, 32)))


def test_real_images_and_end_to_end(lenet):
    config = BenchConfig(**TINY, batches=(4,), data=lenet["images"])
    (raw,) = run_bench([lenet["onnx"]], config, save=False).json_value()
    assert raw["mode"] == "session.run" and raw["input_shape"] == [4, 1, 32, 32]
    config = BenchConfig(**TINY, batches=(4,), data=lenet["images"], end_to_end=True)
    (e2e,) = run_bench([lenet["onnx"]], config, save=False).json_value()
    assert e2e["mode"] == "end-to-end"
    check_entry(e2e)


def test_ops_and_plot(lenet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plot = tmp_path / "bench.png"
    config = BenchConfig(**TINY, batches=(1, 2), ops=2)
    result = run_bench([lenet["onnx"]], config, plot=plot, save=False)
    assert plot.stat().st_size > 1000 and result.plot == plot
    ops = result.json_value()[0]["ops"]
    assert ops["runs"] == 3 and len(ops["top_nodes"]) == 2
    assert {"op", "ms", "nodes", "share"} <= set(ops["by_op"][0])


def test_against_torch_uses_the_same_inputs(lenet):
    config = BenchConfig(**TINY, batches=(1, 2))
    from toolkit.bench_eager import against_torch

    eager_side = against_torch(lenet["run"])
    rows = run_bench([lenet["onnx"]], config, eager=eager_side, save=False).json_value()
    eager = [r for r in rows if r["mode"] == "torch-eager"]
    assert [r["batch"] for r in eager] == [1, 2]
    for row in eager:
        check_entry(row)
        assert row["ratio"] > 0 and row["provider"].startswith("torch")


def test_peak_alone_prints_the_peak_and_the_machine():
    from toolkit.bench import BenchResult, measure_peak

    peak = measure_peak(size=256, repeats=2)
    assert peak.gflops > 0.01 and peak.best_s > 0 and peak.size == 256
    data = BenchResult([], peak, {"cores": 2}).json_value()
    assert data["peak_gflops"] == peak.gflops and data["machine"]["cores"] == 2


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        (BenchConfig(**{**TINY, "threads": (0,)}), "--threads 0"),
        (BenchConfig(**TINY, batches=(-1,)), "--batch-size -1"),
        (BenchConfig(**{**TINY, "iterations": 0}), "--iterations 0"),
        (BenchConfig(**TINY, end_to_end=True), "--end-to-end needs --data"),
        (BenchConfig(**TINY, devices=("tpu",)), "--device"),
    ],
)
def test_bad_configurations(lenet, config, needle):
    with pytest.raises(CnnkitError, match=needle):
        run_bench([lenet["onnx"]], config, save=False)


def test_a_run_folder_stands_for_its_model(lenet, capsys):
    (row,) = run_bench([lenet["run"]], BenchConfig(**TINY), save=False).json_value()
    assert row["model"] == str(lenet["onnx"])
    assert "benchmarking" in capsys.readouterr().err
