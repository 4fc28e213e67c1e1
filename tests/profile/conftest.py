"""Real ONNX files for the profiler tests: zoo models exported once per session, tiny graphs
written with onnx.helper, and int8 variants quantized with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.profile import export, quantize, trained_like


@pytest.fixture(scope="session")
def resnet18_onnx(tmp_path_factory) -> tuple[Path, object]:
    """ResNet-18 (1000 classes, trained-like BatchNorm) at 3x224x224 and its torch module."""
    from toolkit import models

    model = trained_like(models.build("resnet18", num_classes=1000, in_channels=3))
    path = tmp_path_factory.mktemp("resnet18") / "model.onnx"
    return export(model, (3, 224, 224), path), model


@pytest.fixture(scope="session")
def quantized_resnet18(resnet18_onnx, tmp_path_factory) -> dict[str, Path]:
    """The ResNet-18 file quantized static QDQ per-channel and dynamic."""
    source, folder = resnet18_onnx[0], tmp_path_factory.mktemp("int8")
    return {
        kind: quantize(source, folder / f"resnet18.{kind}.onnx", kind, (1, 3, 224, 224))
        for kind in ("qdq", "dynamic")
    }
