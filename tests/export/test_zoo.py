"""Every zoo model exports and matches torch: a representative few here, all of it when slow."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from toolkit import models
from toolkit.export import export_onnx
from toolkit.export.source import ZOO_SEED

FCN_VARIANTS = [  # (backbone, upsample, dilation): every upsample mode, both backbone kinds
    ("vgg16", "bilinear", None),
    ("vgg16", "transposed", None),
    ("vgg16", "unpool", None),
    ("vgg16_bn", "unpool", None),
    ("resnet18", "bilinear", None),
    ("resnet18", "transposed", 8),
    ("resnet34", "bilinear", 16),
    ("resnet50", "transposed", None),
]


def export_and_check(tmp_path, name, size, model_args=None):
    report = export_onnx(
        name, tmp_path / f"{name}.onnx", input_size=size, model_args=model_args, quiet=True
    )
    assert report.parity_ok, report.parity
    assert min(row["agreement"] for row in report.parity) == 1.0
    return report


@pytest.mark.parametrize(
    ("name", "size", "model_args"),
    [
        ("resnet18", (3, 32, 32), {}),
        # VGG-16's fc6 as a 7x7 conv: a 0.5 GB file, ~10 s of CPU; the slow suite exports
        # every FCN variant, and tests/export/conftest.py's fcn_onnx is an FCN-8s here.
        pytest.param(
            "fcn32s",
            (3, 32, 32),
            {"backbone": "vgg16", "upsample": "unpool"},
            marks=pytest.mark.slow,
        ),
    ],
)
def test_representative_models_export_with_parity(tmp_path, name, size, model_args):
    report = export_and_check(tmp_path, name, size, model_args)
    assert report.exporter == "dynamo"


def test_segmentation_file_takes_any_batch_and_size_in_plain_onnxruntime(fcn_onnx):
    """fcn_onnx is FCN-8s/ResNet-18 on 1x32x32; H and W are dynamic, odd sizes included."""
    torch.manual_seed(ZOO_SEED)
    model = models.build("fcn8s", in_channels=1, backbone="resnet18").eval()
    session = ort.InferenceSession(str(fcn_onnx), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 1, "height", "width"]
    for batch, h, w in ((1, 32, 32), (3, 37, 45), (8, 33, 32)):
        x = np.random.default_rng(batch).standard_normal((batch, 1, h, w), dtype=np.float32)
        (logits,) = session.run(None, {"input": x})
        assert logits.shape == (batch, 11, h, w)
        expected = model(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(logits, expected, atol=1e-4, rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("name", models.names("classification"))
def test_every_classifier_at_default_size(tmp_path, name):
    export_and_check(tmp_path, name, None)


@pytest.mark.slow
@pytest.mark.parametrize("name", models.names("segmentation"))
@pytest.mark.parametrize(("backbone", "upsample", "dilation"), FCN_VARIANTS)
def test_every_fcn_variant(tmp_path, name, backbone, upsample, dilation):
    args = {"backbone": backbone, "upsample": upsample, "dilation": dilation}
    report = export_and_check(tmp_path, name, None, args)
    assert len(report.parity) == 3  # batch 1, batch 3, and an odd non-square size
