"""`cnnkit bench` end to end in a subprocess: JSON output, ratios, and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import assert_one_line_error, invoke, run_cli, run_without_torch

FAST = ("--iterations", "3", "--warmup", "1", "--threads", "1", "--no-gflops", "--no-save")


def test_bench_json_has_one_entry_per_configuration(lenet):
    result = run_cli("bench", lenet["onnx"], "--batch", "1,2", "--json", *FAST)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["batch"] for r in rows] == [1, 2]
    for row in rows:
        assert row["p50_ms"] > 0 and row["throughput_ips"] > 0 and row["peak_rss_mb"] > 0


def test_int8_and_fp32_in_one_call_print_their_ratio(lenet):
    result = run_cli("bench", lenet["onnx"], lenet["int8"], *FAST)
    assert result.returncode == 0, result.stderr
    # a ratio, or 'unstable' when the machine's noise makes one meaningless (tests/bench/test_text)
    verdicts = [ln for ln in result.stdout.splitlines() if "(p50, batch 1" in ln]
    (line,) = [ln for ln in verdicts if ln.startswith("lenet/model.int8.onnx ")]
    assert "lenet/model.onnx" in line and "(p50, batch 1, 1 threads, cpu)" in line
    assert " faster than " in line or " slower than " in line or ": unstable " in line


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("missing.onnx",), ("missing.onnx", "no such file")),
        (("{not_onnx}",), ("not_onnx.onnx", "not an onnx model")),
        (("{fixed}", "--batch", "4", "--input-size", "1,32,32"), ("--batch-size 4", "fixed batch")),
        (("{foreign}",), ("dynamic dims", "--input-size")),
        (("{onnx}", "--iterations", "0"), ("--iterations", "0 is not in the range x>=1")),
        (("{onnx}", "--batch", "0"), ("--batch-size 0",)),
        (("{onnx}", "--threads", "-2"), ("--threads -2",)),
        (("{onnx}", "--device", "cpu,cuda"), ("--device cuda", "allow-fallback")),
        (("{onnx}", "--batch", "x"), ("--batch 'x'",)),
        ((), ("at least one model",)),
    ],
)
def test_bad_input_is_one_clear_line(lenet, args, needles):
    args = [a.format(**lenet) for a in args]
    if "--iterations" not in args:
        args += ["--iterations", "3"]
    result = invoke("bench", *args)
    assert_one_line_error(result, *needles)


def test_bench_runs_with_torch_blocked(lenet, tmp_path):
    """The edge install: bench, its profiler, FLOP count and plot never need torch."""
    result = run_without_torch(
        f"""
        from toolkit.cli import cli
        cli(["bench", {str(lenet["onnx"])!r}, "--iterations", "2", "--warmup", "0",
             "--threads", "1", "--ops", "2", "--plot", {str(tmp_path / "b.png")!r},
             "--no-save", "--json"], standalone_mode=False)
        assert "torch" not in sys.modules
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["gflops"] > 0 and row["ops"]["runs"] == 2
    assert (tmp_path / "b.png").is_file()
