"""A corpus of foreign ONNX files, built with onnx.helper the way other tools shape them
(torchvision, timm, Keras/tf2onnx, hand-built): no cnnkit exporter, no metadata.

Each entry says what `inspect` must conclude and how infer's answer is checked against a
bare onnxruntime session on the same preprocessed tensor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, HALF, UINT8 = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.UINT8


@dataclass(frozen=True)
class Entry:
    """One corpus file and what is expected of it."""

    name: str
    expect: dict  # Interpretation fields: layout, input_dtype, reading, output, channels, size
    options: dict = field(default_factory=dict)  # infer flags it needs (Predictor options)
    quantize: bool = True  # a float32 single-input model that quantize must take
    profile_size: dict | tuple | None = None  # --input-size for profile / bench
    image_size: tuple[int, int] = (24, 20)  # (W, H) of the test images


def weights(name: str, shape, seed: int, scale: float = 4.0, dtype=np.float32):
    """A seeded random initializer."""
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(dtype), name)


def model(nodes, inputs, outputs, inits, opset: int = 17, ir: int = 8) -> onnx.ModelProto:
    """A checked ModelProto."""
    graph = helper.make_graph(nodes, "foreign", inputs, outputs, initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = ir
    proto.producer_name = "corpus"
    onnx.checker.check_model(proto)
    return proto


def head(source: str, out: str, classes: int, seed: int, channels: int = 3, prefix: str = ""):
    """Global average pool -> flatten -> matmul + bias: per-image class scores [N, K]."""
    nodes = [
        helper.make_node("GlobalAveragePool", [source], [f"{prefix}pool"]),
        helper.make_node("Flatten", [f"{prefix}pool"], [f"{prefix}flat"]),
        helper.make_node("MatMul", [f"{prefix}flat", f"{prefix}w"], [f"{prefix}mm"]),
        helper.make_node("Add", [f"{prefix}mm", f"{prefix}b"], [out]),
    ]
    inits = [
        weights(f"{prefix}w", (channels, classes), seed),
        weights(f"{prefix}b", (classes,), seed + 1, 0.1),
    ]  # noqa: E501
    return nodes, inits


def tensor(name, elem, shape):
    """A value info."""
    return helper.make_tensor_value_info(name, elem, shape)


def nhwc():
    """Keras / tf2onnx: channels last, transposed inside."""
    nodes, inits = head("nchw", "logits", 5, 1)
    nodes.insert(0, helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]))
    return model(
        nodes,
        [tensor("image", FLOAT, ["N", 16, 16, 3])],
        [tensor("logits", FLOAT, ["N", 5])],
        inits,
    )  # noqa: E501


def gray_nhwc_fixed():
    """Keras MNIST style: [1, 28, 28, 1], one gray channel last, fixed batch of 1."""
    nodes, inits = head("nchw", "dense", 10, 2, channels=1)
    nodes.insert(0, helper.make_node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]))
    return model(
        nodes, [tensor("x", FLOAT, [1, 28, 28, 1])], [tensor("dense", FLOAT, [1, 10])], inits
    )  # noqa: E501


def softmax(opset: int = 17, ir: int = 8):
    """A classifier whose graph ends in Softmax: its output already is probabilities."""
    nodes, inits = head("input", "scores", 4, 3)
    nodes.append(helper.make_node("Softmax", ["scores"], ["probs"], axis=1))
    return model(
        nodes,
        [tensor("input", FLOAT, ["N", 3, 16, 16])],
        [tensor("probs", FLOAT, ["N", 4])],
        inits,
        opset,
        ir,
    )  # noqa: E501


def squeezenet():
    """SqueezeNet style: a 1x1 conv to K maps, then global pooling: [N, K, 1, 1]."""
    nodes = [
        helper.make_node("Conv", ["data", "w"], ["maps"]),
        helper.make_node("GlobalAveragePool", ["maps"], ["pooled"]),
    ]
    inputs = [tensor("data", FLOAT, ["N", 3, 16, 16])]
    return model(
        nodes, inputs, [tensor("pooled", FLOAT, ["N", 7, 1, 1])], [weights("w", (7, 3, 1, 1), 4)]
    )  # noqa: E501


def fixed_batch():
    """A batch fixed at 2 (exported with a static example)."""
    nodes, inits = head("input", "logits", 3, 5)
    return model(
        nodes, [tensor("input", FLOAT, [2, 3, 16, 16])], [tensor("logits", FLOAT, [2, 3])], inits
    )  # noqa: E501


def uint8_input():
    """Raw 0..255 pixels in, scaling inside the graph."""
    nodes, inits = head("scaled", "logits", 4, 6)
    nodes[:0] = [
        helper.make_node("Cast", ["pixels"], ["as_float"], to=FLOAT),
        helper.make_node("Mul", ["as_float", "scale"], ["scaled"]),
    ]
    inits.append(numpy_helper.from_array(np.array(1 / 255, np.float32), "scale"))
    return model(
        nodes,
        [tensor("pixels", UINT8, ["N", 3, 16, 16])],
        [tensor("logits", FLOAT, ["N", 4])],
        inits,
    )  # noqa: E501


def float16():
    """A half-precision model: float16 input, weights and output."""
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
    ]
    inits = [weights("w", (3, 4), 7, dtype=np.float16)]
    return model(
        nodes, [tensor("input", HALF, ["N", 3, 16, 16])], [tensor("logits", HALF, ["N", 4])], inits
    )  # noqa: E501


def two_inputs():
    """An image and a side vector (metadata features) added to the scores."""
    nodes, inits = head("image", "scores", 4, 8)
    nodes.append(helper.make_node("Add", ["scores", "meta"], ["logits"]))
    inputs = [tensor("image", FLOAT, ["N", 3, 16, 16]), tensor("meta", FLOAT, ["N", 4])]
    return model(nodes, inputs, [tensor("logits", FLOAT, ["N", 4])], inits)


def three_outputs():
    """A main head and two auxiliary heads (GoogLeNet / Inception training exports)."""
    nodes, inits = [], []
    for i, name in enumerate(("main", "aux1", "aux2")):
        more_nodes, more_inits = head("input", name, 5, 10 + 2 * i, prefix=f"{name}_")
        nodes += more_nodes
        inits += more_inits
    outputs = [tensor(name, FLOAT, ["N", 5]) for name in ("main", "aux1", "aux2")]
    return model(nodes, [tensor("input", FLOAT, ["N", 3, 16, 16])], outputs, inits)


def seg300():
    """Segmentation scores over 300 classes with dynamic H and W: 16-bit masks."""
    nodes = [helper.make_node("Conv", ["input", "w"], ["out"])]
    inputs = [tensor("input", FLOAT, ["N", 3, "H", "W"])]
    return model(
        nodes,
        inputs,
        [tensor("out", FLOAT, ["N", 300, "H", "W"])],
        [weights("w", (300, 3, 1, 1), 20)],
    )  # noqa: E501


def label_map():
    """Segmentation that ends in ArgMax: an int64 [N, H, W] label map."""
    nodes = [
        helper.make_node("Conv", ["input", "w"], ["scores"]),
        helper.make_node("ArgMax", ["scores"], ["labels"], axis=1, keepdims=0),
    ]
    inputs = [tensor("input", FLOAT, ["N", 3, 16, 16])]
    outputs = [tensor("labels", TensorProto.INT64, ["N", 16, 16])]
    return model(nodes, inputs, outputs, [weights("w", (5, 3, 1, 1), 21)])


def dynamic_hw():
    """torchvision style: dynamic batch, H and W."""
    nodes, inits = head("input", "logits", 6, 22)
    return model(
        nodes,
        [tensor("input", FLOAT, ["batch", 3, "height", "width"])],
        [tensor("logits", FLOAT, ["batch", 6])],
        inits,
    )  # noqa: E501


def external(folder: Path) -> Path:
    """Weights in a separate .data file beside the model."""
    nodes, inits = head("input", "logits", 8, 23)
    proto = model(
        nodes,
        [tensor("input", FLOAT, ["N", 3, 16, 16])],
        [tensor("logits", FLOAT, ["N", 8])],
        inits,
    )  # noqa: E501
    path = folder / "external.onnx"
    onnx.save_model(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external.onnx.data", size_threshold=0)  # fmt: skip
    return path


C3 = {"channels": 3, "size": (16, 16)}
ENTRIES = [
    Entry("nhwc", {"layout": "NHWC", "input_dtype": "float32", "reading": "logits", **C3}),
    Entry(
        "gray_nhwc_fixed", {"layout": "NHWC", "reading": "logits", "channels": 1, "size": (28, 28)}
    ),  # noqa: E501
    Entry("softmax", {"layout": "NCHW", "reading": "probs", "output": "probs", **C3}),
    Entry("squeezenet", {"reading": "logits", "task": "classification", **C3}),
    Entry("fixed_batch", {"reading": "logits", **C3}),
    Entry("uint8_input", {"input_dtype": "uint8", "raw": True, **C3}, quantize=False),
    Entry("float16", {"input_dtype": "float16", **C3}, quantize=False),
    Entry(
        "two_inputs",
        {"image_input": "image", **C3},
        {"feeds": {"meta": "meta.npy"}},
        quantize=False,
        profile_size={"meta": (4,)},
    ),  # fmt: skip
    Entry("three_outputs", {"output": "main", **C3}),
    Entry(
        "seg300",
        {"reading": "segmentation-scores", "task": "segmentation", "size": (224, 224)},
        {"size": (16, 16)},
        profile_size=(3, 16, 16),
        image_size=(16, 16),
    ),  # fmt: skip
    Entry(
        "label_map",
        {"reading": "segmentation-labels", "task": "segmentation", **C3},
        image_size=(16, 16),
    ),  # fmt: skip
    Entry("opset13", {"reading": "probs", **C3}),
    Entry("opset21", {"reading": "probs", **C3}),
    Entry("external", {"reading": "logits", **C3}),
    Entry("dynamic_hw", {"reading": "logits", "size": (224, 224)}, profile_size=(3, 32, 32)),
]
BUILDERS = {
    "nhwc": nhwc,
    "gray_nhwc_fixed": gray_nhwc_fixed,
    "softmax": softmax,
    "squeezenet": squeezenet,
    "fixed_batch": fixed_batch,
    "uint8_input": uint8_input,
    "float16": float16,
    "two_inputs": two_inputs,
    "three_outputs": three_outputs,
    "seg300": seg300,
    "label_map": label_map,
    "opset13": lambda: softmax(opset=13, ir=7),
    "opset21": lambda: softmax(opset=21, ir=10),
    "dynamic_hw": dynamic_hw,
}


def build(folder: Path) -> dict[str, Path]:
    """Write every corpus file (and the two-input model's constant) into `folder`."""
    paths = {}
    for name, builder in BUILDERS.items():
        paths[name] = folder / f"{name}.onnx"
        onnx.save(builder(), str(paths[name]))
    paths["external"] = external(folder)
    np.save(folder / "meta.npy", np.array([0.5, -1.0, 2.0, 0.0], np.float32))
    return paths
