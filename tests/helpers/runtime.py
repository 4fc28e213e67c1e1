"""Test helpers for tests/runtime/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from toolkit.meta import ModelMeta
from toolkit.onnxfile import write_metadata

DIGIT_CLASSES = [str(i) for i in range(10)]
COLOUR_CLASSES = ["red", "green", "blue"]


def plain_meta(task: str, classes: list[str], input_size: list[int], model: str) -> dict:
    """cnnkit metadata of a hand-built test model: pixels / 255 go in unchanged."""
    channels = input_size[0]
    return {
        "task": task,
        "classes": list(classes),
        "input_size": list(input_size),
        "mean": [0.0] * channels,
        "std": [1.0] * channels,
        "model": model,
        "model_args": {},
    }


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


def colour_segmenter() -> onnx.ModelProto:
    """1x1 conv with identity weights: each pixel's class is its strongest RGB channel."""
    weight = numpy_helper.from_array(np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1), "w")
    return make_model(
        [helper.make_node("Conv", ["input", "w"], ["logits"])],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [weight],
    )


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


def write_images(folder: Path, size: tuple[int, int], count: int = 5) -> list[Path]:
    """Solid random colours with noise, so that classifiers disagree between images."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        base = rng.integers(0, 256, 3)
        noise = rng.integers(-40, 40, (size[1], size[0], 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        paths.append(folder / f"im{i}.png")
        Image.fromarray(pixels, "RGB").save(paths[-1])
    return paths
