"""Small real ONNX models and image files for the runtime tests.

torch is used here only to *make* a classifier file; the runtime under test never imports it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers.runtime import (
    COLOUR_CLASSES,
    DIGIT_CLASSES,
    colour_segmenter,
    make_model,
    plain_meta,
    save,
)


@pytest.fixture(scope="session")
def lenet_onnx(tmp_path_factory) -> Path:
    """The registry's LeNet (random weights, seeded) exported by torch's dynamo exporter."""
    import torch

    from toolkit import models

    torch.manual_seed(0)
    model = models.build("lenet", num_classes=10, in_channels=1).eval()
    batch = torch.export.Dim("batch", min=1)
    program = torch.onnx.export(
        model,
        (torch.randn(2, 1, 32, 32),),
        dynamo=True,
        input_names=["input"],
        output_names=["logits"],
        dynamic_shapes=({0: batch},),
        verbose=False,
    )
    meta = {
        "task": "classification",
        "classes": DIGIT_CLASSES,
        "input_size": [1, 32, 32],
        "mean": [0.5],
        "std": [0.25],
        "model": "lenet",
        "model_args": {"num_classes": 10, "in_channels": 1},
    }
    path = tmp_path_factory.mktemp("models") / "lenet.onnx"
    return save(program.model_proto, path, meta)


@pytest.fixture(scope="session")
def seg_onnx(tmp_path_factory) -> Path:
    """A cnnkit segmentation model (dynamic H, W) that labels pixels by colour."""
    meta = plain_meta("segmentation", COLOUR_CLASSES, [3, 16, 16], "colour")
    return save(colour_segmenter(), tmp_path_factory.mktemp("models") / "seg.onnx", meta)


@pytest.fixture(scope="session")
def foreign_onnx(tmp_path_factory) -> Path:
    """No metadata, fixed batch of 2 on 3x16x16: mean colour -> 3 logits (RGB)."""
    proto = make_model(
        [
            helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
        ],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.eye(3, dtype=np.float32) * 10, "w")],
    )
    return save(proto, tmp_path_factory.mktemp("models") / "foreign.onnx")
