"""quantize_onnx: INT8 (static, dynamic) and FP16 files, compared with fp32, refused when worse."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from toolkit.errors import CnnkitError
from toolkit.export import export_onnx, quantize_onnx
from toolkit.onnxfile import read_metadata


@pytest.fixture(scope="module")
def fp32(lenet_export):
    """The run's exported LeNet (config.json beside it names digits)."""
    return lenet_export.path


@pytest.fixture(scope="module")
def static_report(fp32):
    return quantize_onnx(fp32, samples=256, min_agreement=0.9, quiet=True)


def test_static_int8_calibrates_on_the_run_data_and_compares_on_val(fp32, static_report):
    report = static_report
    assert report.path == fp32.with_name("model.int8.onnx") and report.path.is_file()
    assert report.mode == "static" and report.calibration == "minmax"
    assert report.calib_samples == 256
    assert report.eval_source == "digits val split" and report.eval_samples > 200
    assert report.metric == "accuracy"
    assert report.fp32_metric > 0.85 and report.quant_metric > 0.85
    assert 0.9 <= report.agreement <= 1.0 and not report.forced
    assert report.quant_bytes < report.fp32_bytes / 2
    assert report.fp32_latency_ms > 0 and report.quant_latency_ms > 0


def test_static_int8_is_qdq_with_per_channel_int8_weights(static_report):
    proto = onnx.load(str(static_report.path))
    ops = {node.op_type for node in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    int8_weights = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert any(len(t.dims) == 4 for t in int8_weights)  # conv weights
    scales = [t for t in proto.graph.initializer if t.name.endswith("_scale") and t.dims]
    assert scales  # per-channel: a scale vector, not a scalar


def test_quantized_file_keeps_the_metadata(fp32, static_report):
    original = read_metadata(onnx.load(str(fp32))).to_dict()
    meta = read_metadata(onnx.load(str(static_report.path))).to_dict()
    assert meta.pop("precision") == "int8"
    assert meta == original
    session = ort.InferenceSession(str(static_report.path))
    assert session.get_inputs()[0].type == "tensor(float)"
    for batch in (1, 3, 8):
        x = np.zeros((batch, 1, 32, 32), np.float32)
        assert session.run(None, {"input": x})[0].shape == (batch, 10)


def test_too_little_agreement_is_refused_and_nothing_written(fp32, tmp_path):
    out = tmp_path / "bad.int8.onnx"
    with pytest.raises(CnnkitError, match="--min-agreement"):
        quantize_onnx(fp32, out, samples=1, min_agreement=0.999, quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_force_writes_it_anyway_and_says_so(fp32, tmp_path, capsys):
    out = tmp_path / "forced.int8.onnx"
    report = quantize_onnx(fp32, out, samples=1, min_agreement=0.999, force=True, quiet=True)
    assert report.forced and report.agreement < 0.999 and out.is_file()
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["entropy", "percentile"])
def test_other_calibration_methods(fp32, gray_images, tmp_path, method):
    report = quantize_onnx(
        fp32,
        tmp_path / f"{method}.onnx",
        calibration=method,
        calib_dir=gray_images,
        min_agreement=0.0,
        quiet=True,
    )
    assert report.calibration == method and report.calib_samples == 12
    assert report.eval_source == "digits val split"  # the run's data is known


def test_dynamic_int8_quantizes_weights(fp32, gray_images, tmp_path):
    report = quantize_onnx(
        fp32,
        tmp_path / "d.onnx",
        mode="dynamic",
        calib_dir=gray_images,
        min_agreement=0.0,
        quiet=True,
    )
    ops = {node.op_type for node in onnx.load(str(report.path)).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeLinear", "ConvInteger", "DynamicQuantizeMatMul"}
    assert report.calibration is None and report.calib_samples == 0


def test_fp16_keeps_float32_inputs_and_outputs(fp32, gray_images):
    report = quantize_onnx(fp32, mode="fp16", calib_dir=gray_images, quiet=True)
    assert report.path == fp32.with_name("model.fp16.onnx")
    proto = onnx.load(str(report.path))
    float32 = onnx.TensorProto.FLOAT
    assert proto.graph.input[0].type.tensor_type.elem_type == float32
    assert proto.graph.output[0].type.tensor_type.elem_type == float32
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in proto.graph.initializer)
    assert report.agreement >= 0.98 and report.quant_bytes < report.fp32_bytes
    assert read_metadata(proto).precision == "fp16"


def test_a_model_copied_out_of_its_run_folder_keeps_its_metadata(fp32, tmp_path, gray_images):
    copied = tmp_path / "copied.onnx"
    copied.write_bytes(fp32.read_bytes())
    with pytest.raises(CnnkitError, match="carries cnnkit metadata but no run config.json"):
        quantize_onnx(copied, quiet=True)
    report = quantize_onnx(copied, data="digits", samples=16, min_agreement=0.0, quiet=True)
    assert report.eval_source == "digits val split" and report.metric == "accuracy"


def test_without_run_data_calibration_images_are_split_never_compared_on(tmp_path, gray_images):
    exported = export_onnx("lenet", tmp_path / "m.onnx", parity=False, quiet=True)
    with pytest.raises(CnnkitError, match="carries cnnkit metadata but no run config.json"):
        quantize_onnx(exported.path, quiet=True)
    report = quantize_onnx(exported.path, calib_dir=gray_images, min_agreement=0.0, quiet=True)
    assert report.metric is None and (report.calib_samples, report.eval_samples) == (9, 3)
    assert report.eval_source.endswith("held-out part (3 images)")
    separate = quantize_onnx(
        exported.path,
        tmp_path / "e.onnx",
        calib_dir=gray_images,
        eval_dir=gray_images,
        min_agreement=0.0,
        quiet=True,
    )
    assert (separate.calib_samples, separate.eval_samples) == (12, 12)


def test_segmentation_int8_reports_miou_and_pixel_agreement(fcn_onnx, tmp_path):
    report = quantize_onnx(
        fcn_onnx,
        tmp_path / "fcn.int8.onnx",
        data="digit-scenes",
        samples=16,
        min_agreement=0.0,
        quiet=True,
    )
    assert report.metric == "miou" and 0.0 <= report.quant_metric <= 1.0
    assert report.eval_source == "digit-scenes val split"
    assert 0.5 < report.agreement <= 1.0
    data = json.loads(json.dumps(report.to_dict()))
    assert data["speedup"] > 0 and data["path"].endswith("fcn.int8.onnx")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"mode": "int4"}, "--mode"),
        ({"calibration": "magic"}, "--calibration"),
        ({"samples": 0}, "--samples"),
        ({"calib_dir": "no/such/dir"}, "no such folder"),
    ],
)
def test_bad_options_are_one_clear_error(fp32, kwargs, needle):
    with pytest.raises(CnnkitError, match=needle):
        quantize_onnx(fp32, fp32.with_name("never.onnx"), quiet=True, **kwargs)
    assert not fp32.with_name("never.onnx").exists()


def test_output_may_not_overwrite_the_source(fp32, gray_images):
    with pytest.raises(CnnkitError, match="overwrite"):
        quantize_onnx(fp32, fp32, calib_dir=gray_images, quiet=True)


def test_missing_model_file(tmp_path):
    with pytest.raises(CnnkitError, match="no such file"):
        quantize_onnx(tmp_path / "none.onnx", quiet=True)
