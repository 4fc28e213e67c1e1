"""`cnnkit diff` end to end (the installed console script, from a folder outside the checkout);
`quantize --auto/--explain` in-process (tests/e2e runs quantize through the console script)."""

from __future__ import annotations

import json

import onnx
import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.diff import first_conv_block_output
from tests.helpers.e2e import cnnkit
from toolkit.export import quantize_onnx


@pytest.fixture(scope="module")
def auto_json(broken_run, tmp_path_factory) -> dict:
    """`cnnkit quantize --auto --force --json` on the broken LeNet (written even if slower)."""
    cwd = tmp_path_factory.mktemp("auto")
    out = cwd / "auto.int8.onnx"
    result = invoke(
        "quantize", broken_run / "model.onnx", "--auto", "--min-agreement", "0.99",
        "--force", "--json", "-o", out, cwd=cwd,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow  # the library test covers the same diff; this adds the torch CLI path
def test_diff_run_folder_vs_export_passes_and_states_the_rule(good_run, tmp_path):
    result = cnnkit("diff", good_run / "model.onnx", good_run, "--layerwise", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pass rule: an element fails when |a-b| > atol + rtol*|b|" in result.stdout
    assert "every layer within tolerance" in result.stdout and "PASSED" in result.stdout


def test_diff_int8_layerwise_json_and_png(broken_run, tmp_path):
    fp32 = broken_run / "model.onnx"
    int8 = quantize_onnx(fp32, tmp_path / "plain.int8.onnx", force=True, quiet=True).path
    png = tmp_path / "sqnr.png"
    args = ("diff", int8, fp32, "--layerwise", "--plot", png, "--samples", "32", "--json")
    result = cnnkit(*args, cwd=tmp_path)
    assert result.returncode == 1  # the logits are out of tolerance: a finished, failed diff
    report = json.loads(result.stdout)
    assert report["first_failing"] == first_conv_block_output(fp32)
    assert "worst-channel SQNR is below 10 dB" in report["rule"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and report["plot"] == str(png)


def test_quantize_auto_recovers_agreement_on_held_out_data(broken_run, auto_json):
    auto = auto_json["auto"]
    steps = auto["steps"]
    assert steps[0]["agreement"] < 0.5 and steps[0]["float_nodes"] == []
    chosen = steps[auto["chosen"]]
    assert chosen["agreement"] >= 0.99 and auto_json["agreement"] >= 0.99
    assert auto_json["eval_source"] == "digits val split"  # held out: calibration is train
    assert steps[1]["kept_tensor"] == first_conv_block_output(broken_run / "model.onnx")
    assert all(s["latency_ms"] > 0 for s in steps) and auto["fp32_latency_ms"] > 0
    proto = onnx.load(auto_json["path"])
    assert any(n.op_type == "QuantizeLinear" for n in proto.graph.node)  # still mostly INT8
    assert len(chosen["float_nodes"]) < len(proto.graph.node)


def test_quantize_explain_names_the_layer_and_the_fix(broken_run, tmp_path):
    model = broken_run / "model.onnx"
    out = tmp_path / "refused.int8.onnx"
    result = invoke(
        "quantize", model, "-o", out, "--min-agreement", "0.99", "--explain", cwd=tmp_path
    )
    assert_one_line_error(result, "--min-agreement")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("worst layers")
    assert lines[1].split()[0] == first_conv_block_output(model)
    assert f"cnnkit quantize {model} --auto --min-agreement 0.99" in result.stderr
    assert not out.exists()


def test_diff_bad_input_is_one_line(good_run, tmp_path):
    model = good_run / "model.onnx"
    assert_one_line_error(cnnkit("diff", tmp_path / "nope.onnx", model, cwd=tmp_path), "nope.onnx")
    bad_opt = cnnkit("diff", model, model, "--graph-opt", "a,b,c", cwd=tmp_path)
    assert_one_line_error(bad_opt, "--graph-opt")
    assert_one_line_error(
        cnnkit("diff", model, model, "--plot", "x.png", cwd=tmp_path), "--layerwise"
    )
