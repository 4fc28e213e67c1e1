"""Test helpers for tests/profile/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from toolkit.errors import CnnkitError


def export(model, size, path: Path, *, dynamic_hw: bool = False) -> Path:
    """torch.onnx.export (dynamo) with a dynamic batch (and H, W), like cnnkit's exporter."""
    import torch

    x = torch.randn(2, *size)
    dims = {0: torch.export.Dim("batch")}
    if dynamic_hw:
        dims |= {2: torch.export.Dim("height", min=16), 3: torch.export.Dim("width", min=16)}
    torch.onnx.export(
        model.eval(),
        (x,),
        str(path),
        dynamo=True,
        input_names=["input"],
        output_names=["logits"],
        dynamic_shapes=(dims,),
        verbose=False,
    )
    return path


def trained_like(model):
    """Non-trivial BatchNorm statistics and non-zero biases, as training would leave them.

    The exporter drops all-zero biases and folds BatchNorm into the conv before it; with
    fresh weights that would hide parameters the counts are meant to compare.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        bias = getattr(module, "bias", None)
        if isinstance(bias, torch.nn.Parameter) and not bias.detach().any():
            bias.data.uniform_(-0.1, 0.1, generator=generator)
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
            module.weight.data.uniform_(0.5, 1.5, generator=generator)
            module.bias.data.uniform_(-0.5, 0.5, generator=generator)
    return model.eval()


def small_size(name: str) -> tuple[int, int, int]:
    """The smallest of a few square sizes the zoo model accepts (models.check_input)."""
    from toolkit import models

    channels = models.default_input_size(name)[0]
    for side in (32, 64, 96, 128, 160):
        try:
            models.check_input(name, (channels, side, side))
        except CnnkitError:
            continue
        return (channels, side, side)
    return models.default_input_size(name)


def make_model(nodes, inputs, outputs, initializers=(), opset: int = 17) -> onnx.ModelProto:
    """A ModelProto from onnx.helper pieces (a 'foreign' file: no cnnkit metadata)."""
    graph = helper.make_graph(nodes, "foreign", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def tensor(name: str, shape, value: float | None = None, dtype=np.float32):
    """An initializer of the given shape (seeded random values unless `value` is given)."""
    rng = np.random.default_rng(0)
    data = np.full(shape, value, dtype) if value is not None else rng.standard_normal(shape)
    return numpy_helper.from_array(np.asarray(data, dtype=dtype), name)


def image_input(name: str = "input", shape=("N", 3, 32, 32)):
    """A float32 NCHW graph input; strings are dynamic dims."""
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def output(name: str):
    """A graph output of unknown shape."""
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, None)


VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def vgg16_trunk(width: int = 4) -> onnx.ModelProto:
    """VGG-16's trunk (13 3x3 convs, 5 2x2 pools) as a foreign ONNX graph, `width` channels."""
    nodes, inits, src, channels = [], [], "input", 3
    for i, v in enumerate(VGG16):
        dst = f"t{i}"
        if v == "M":
            nodes.append(
                helper.make_node(
                    "MaxPool", [src], [dst], name=f"pool{i}", kernel_shape=[2, 2], strides=[2, 2]
                )
            )
        else:
            inits.append(tensor(f"w{i}", (width, channels, 3, 3)))
            nodes.append(
                helper.make_node("Conv", [src, f"w{i}"], [f"c{i}"], name=f"conv{i}", pads=[1] * 4)
            )
            nodes.append(helper.make_node("Relu", [f"c{i}"], [dst], name=f"relu{i}"))
            channels = width
        src = dst
    nodes.append(helper.make_node("Identity", [src], ["logits"], name="out"))
    return make_model(nodes, [image_input(shape=("N", 3, 224, 224))], [output("logits")], inits)


class RandomBatches:
    """A few seeded random calibration batches for onnxruntime's static quantizer."""

    def __init__(self, shape, count: int = 3):
        rng = np.random.default_rng(0)
        self.batches = iter(
            [{"input": rng.standard_normal(shape).astype(np.float32)} for _ in range(count)]
        )

    def get_next(self):
        return next(self.batches, None)


def quantize(source: Path, out: Path, kind: str, shape) -> Path:
    """Quantize with onnxruntime: "qdq" / "qoperator" (static, per-channel) or "dynamic"."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    if kind == "dynamic":
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8)
        return out
    quantize_static(
        str(source),
        str(out),
        RandomBatches(shape, count=2),
        quant_format=QuantFormat.QDQ if kind == "qdq" else QuantFormat.QOperator,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
    )
    return out
