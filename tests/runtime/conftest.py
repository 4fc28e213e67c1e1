"""Small real ONNX models and image files for the runtime tests.

torch is used here only to *make* a classifier file; the runtime under test never imports it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from toolkit.meta import ModelMeta
from toolkit.onnxfile import write_metadata

DIGIT_CLASSES = [str(i) for i in range(10)]
COLOUR_CLASSES = ["red", "green", "blue"]


def save(proto, path: Path, meta: dict | None = None) -> Path:
    """Check, tag with cnnkit metadata (unless foreign) and write an ONNX model."""
    onnx.checker.check_model(proto)
    if meta is not None:
        write_metadata(proto, ModelMeta.from_dict(meta))
    onnx.save(proto, str(path))
    return path


def make_model(nodes, inputs, outputs, initializers) -> onnx.ModelProto:
    """An opset-17 model from graph parts."""
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    return proto


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


def colour_segmenter() -> onnx.ModelProto:
    """1x1 conv with identity weights: each pixel's class is its strongest RGB channel."""
    weight = numpy_helper.from_array(np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1), "w")
    return make_model(
        [helper.make_node("Conv", ["input", "w"], ["logits"])],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [weight],
    )


@pytest.fixture(scope="session")
def seg_onnx(tmp_path_factory) -> Path:
    """A cnnkit segmentation model (dynamic H, W) that labels pixels by colour."""
    meta = {
        "task": "segmentation",
        "classes": COLOUR_CLASSES,
        "input_size": [3, 16, 16],
        "mean": [0.0, 0.0, 0.0],
        "std": [1.0, 1.0, 1.0],
        "model": "colour",
        "model_args": {},
    }
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


def write_pngs(folder: Path, count: int, size=(20, 24), mode="L", seed=0) -> list[Path]:
    """`count` random PNGs named img000.png ... in a folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    for i in range(count):
        path = folder / f"img{i:03d}.png"
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
        paths.append(path)
    return paths


def solid(colour, size=(10, 8)) -> Image.Image:
    """A one-colour RGB image."""
    return Image.new("RGB", size, colour)
