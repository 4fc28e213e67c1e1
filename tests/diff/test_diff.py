"""diff_models: torch vs its export layer by layer, fp32 vs INT8, two ONNX files without torch."""

from __future__ import annotations

import json
import math

import numpy as np

from tests.helpers.cli import run_without_torch
from tests.helpers.diff import first_conv_block_output
from toolkit.diff import DiffOptions, SideSpec, Tolerance, diff_models
from toolkit.export import quantize_onnx


def test_run_folder_vs_its_export_every_block_within_tolerance(good_run):
    options = DiffOptions(samples=48, layerwise=True, quiet=True)
    report = diff_models(SideSpec(str(good_run / "model.onnx")), SideSpec(str(good_run)), options)
    assert report.inputs == "digits test split" and report.samples == 48
    assert report.ok and report.first_failing is None
    assert report.agreement["top1_agreement"] == 1.0
    assert report.agreement["accuracy_a"] == report.agreement["accuracy_b"] > 0.85
    names = [row["name"] for row in report.layers]
    # every conv/act/pool block of the zoo's LeNet, matched to the exporter's tensors
    for block in ("features.0", "features.1", "features.3", "features.6", "head.1", "head.3"):
        assert any(name.startswith(block + " -> ") for name in names), (block, names)
    assert names.index("features.0 -> conv2d") < names.index("head.3 -> logits")  # graph order
    assert all(row["ok"] and row["sqnr_db"] is None or row["sqnr_db"] > 80 for row in report.layers)
    assert "|a-b| > atol + rtol*|b|" in report.rule


def test_int8_layerwise_points_first_at_the_scaled_layer(broken_run, tmp_path):
    fp32 = broken_run / "model.onnx"
    int8 = quantize_onnx(fp32, tmp_path / "plain.int8.onnx", force=True, quiet=True)
    assert int8.agreement < 0.5  # plain static INT8 is broken by the blown-up range
    tolerance = Tolerance(None, None, min_sqnr=10.0)
    options = DiffOptions(samples=32, layerwise=True, tolerance=tolerance, quiet=True)
    report = diff_models(SideSpec(str(int8.path)), SideSpec(str(fp32)), options)
    assert not report.ok and report.agreement["top1_agreement"] < 0.5
    assert report.first_failing == first_conv_block_output(fp32)
    first = next(row for row in report.layers if row["name"] == report.first_failing)
    # the whole-tensor SQNR hides it (the big channel dominates); the worst channel does not
    assert first["sqnr_db"] > 30 and first["worst_channel_sqnr_db"] < 3
    assert {row["node"] for row in report.weights} >= {"node_conv2d", "node_conv2d_1"}
    assert all(row["sqnr_db"] > 30 for row in report.weights)


def test_same_file_under_two_optimisation_levels_without_torch(good_run, gray_pngs):
    model = good_run / "model.onnx"
    result = run_without_torch(
        f"""
        import json
        from toolkit.diff import DiffOptions, SideSpec, diff_models
        options = DiffOptions(inputs={str(gray_pngs)!r}, layerwise=True, quiet=True)
        report = diff_models(
            SideSpec({str(model)!r}, graph_optimization="disable"),
            SideSpec({str(model)!r}, graph_optimization="all"),
            options,
        )
        implicit = diff_models(SideSpec({str(model)!r}), SideSpec({str(model)!r}), DiffOptions())
        assert "random" in implicit.inputs and implicit.ok  # the run's digits need torch
        assert "torch" not in sys.modules
        print(json.dumps(report.to_dict()))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "needs cnnkit[train]" in result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["samples"] == 6 and "opt disable" in report["a"]
    assert len(report["layers"]) >= 9 and report["first_failing"] is None


def test_validate_counts_nan_per_output(good_run, tmp_path):
    import onnx
    from onnx import helper

    proto = onnx.load(str(good_run / "model.onnx"))
    last = proto.graph.node[-1]
    last.output[0] = "pre_logits"
    proto.graph.node.append(helper.make_node("Log", ["pre_logits"], ["logits"]))  # NaN < 0
    bad = tmp_path / "nan.onnx"
    onnx.save(proto, str(bad))
    report = diff_models(
        SideSpec(str(bad)),
        SideSpec(str(good_run / "model.onnx")),
        DiffOptions(samples=8, quiet=True),
    )
    row = report.outputs[0]
    assert row["nan"]["a"] > 0 and row["nan"]["b"] == 0 and not row["ok"]
    json.dumps(report.to_dict(), allow_nan=False)  # strict JSON even with NaN inside
    assert math.isfinite(row["mean_abs"] or 0.0)
    assert np.isfinite(report.samples)
