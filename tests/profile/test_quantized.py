"""Quantized models: int8 MACs of QDQ, QOperator and dynamic ResNet-18 equal its fp32 MACs."""

from __future__ import annotations

import pytest

from tests.helpers.profile import quantize
from toolkit.profile import profile_onnx


@pytest.fixture(scope="module")
def fp32(resnet18_onnx):
    return profile_onnx(resnet18_onnx[0])


def test_static_qdq_int8_macs_equal_fp32_macs(fp32, quantized_resnet18):
    int8 = profile_onnx(quantized_resnet18["qdq"])

    assert int8.totals.macs == fp32.totals.macs == 1_814_073_344
    assert int8.totals.int8_macs == fp32.totals.macs  # every Conv and the Gemm run in int8
    assert int8.totals.params == fp32.totals.params  # weights found behind DequantizeLinear
    assert int8.totals.param_bytes < fp32.totals.param_bytes / 3
    assert not int8.uncounted


@pytest.mark.slow
def test_qoperator_int8_macs_equal_fp32_macs(fp32, resnet18_onnx, tmp_path):
    path = quantize(resnet18_onnx[0], tmp_path / "qop.onnx", "qoperator", (1, 3, 224, 224))
    int8 = profile_onnx(path)  # contrib ops: shapes measured with onnxruntime

    assert {"QLinearConv", "QGemm"} <= set(int8.by_op())
    assert int8.totals.int8_macs == fp32.totals.macs
    assert int8.totals.params == fp32.totals.params


def test_dynamic_int8_macs_equal_fp32_macs(fp32, quantized_resnet18):
    int8 = profile_onnx(quantized_resnet18["dynamic"])

    assert "ConvInteger" in int8.by_op() and "MatMulInteger" in int8.by_op()
    assert int8.totals.int8_macs == int8.totals.macs == fp32.totals.macs
    assert int8.totals.params == fp32.totals.params
    assert all(ly.precision == "int8" for ly in int8.layers if ly.macs)
