"""`cnnkit export` and `cnnkit quantize` through the CLI: the export JSON through the real
console script (nothing on stderr from the exporters), the rest in-process."""

from __future__ import annotations

import json

import numpy as np
import onnx
import torch
from onnx import helper

from tests.helpers.cli import assert_one_line_error, invoke, run_cli
from tests.helpers.profile import image_input, make_model, output, tensor


def test_export_run_folder_json(lenet_run, tmp_path):
    out = tmp_path / "cli.onnx"
    result = run_cli("export", lenet_run, "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["path"] == str(out) and out.is_file()
    assert report["exporter"] == "dynamo" and report["parity_ok"] is True
    assert {"max_abs", "max_rel", "cosine", "agreement", "ok"} <= set(report["parity"][0])
    assert result.stderr == ""  # no exporter chatter


def test_quantize_prints_the_side_by_side_table(lenet_export, gray_images, tmp_path):
    out = tmp_path / "q.onnx"
    args = ("quantize", lenet_export.path, "-o", out, "--calib-dir", gray_images)
    result = invoke(*args, "--min-agreement", "0.5")
    assert result.returncode == 0, result.stderr
    assert "agreement" in result.stdout and "latency" in result.stdout
    assert "…" not in result.stdout  # off a terminal the table keeps every digit
    assert "warning:" not in result.stderr  # 270 digits val samples: no small-sample caveat
    assert f"wrote {out}" in result.stdout


def test_quantize_refusal_is_exit_2_and_writes_nothing(lenet_export, tmp_path):
    out = tmp_path / "refused.onnx"
    args = ("quantize", lenet_export.path, "-o", out, "--samples", "1")
    result = invoke(*args, "--min-agreement", "0.999")
    assert_one_line_error(result, "agrees with fp32", "not written")
    assert not out.exists()


def test_bad_export_inputs_are_one_line_each(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "someone-else/3", "weights": torch.zeros(2)}, foreign)
    cases = [
        (("export", tmp_path / "missing.pt"), ("no such checkpoint",)),
        (("export", foreign), ("foreign.pt", "format")),
        (("export", "resnet19"), ("unknown model", "resnet19")),
        (("export", "lenet", "-o", tmp_path / "no" / "x.onnx"), ("does not exist",)),
        (("export", "lenet", "--input-size", "1,8,8"), ("too small",)),
        (("export", "lenet", "--input-size", "1,0,32"), ("--input-size",)),
    ]
    for args, needles in cases:
        assert_one_line_error(invoke(*args, cwd=tmp_path), *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.pt"]


def test_quantizing_an_already_quantized_file_names_that(tmp_path):
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "scale", "zero"], ["q"], name="q"),
        helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["logits"], name="dq"),
    ]
    inits = [tensor("scale", (), 0.1), tensor("zero", (), 0, np.uint8)]
    path = tmp_path / "already.int8.onnx"
    onnx.save(make_model(nodes, [image_input()], [output("logits")], inits), path)
    result = invoke("quantize", path, "-o", tmp_path / "twice.onnx")
    assert_one_line_error(result, "already.int8.onnx: is already quantized", "DequantizeLinear")
    assert not (tmp_path / "twice.onnx").exists()
