"""torch -> ONNX ModelProto: the dynamo exporter, with the TorchScript exporter as a fallback."""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass

import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.export.status import captured_chatter, silenced_fds
from toolkit.progress import note

INPUT, OUTPUT = "input", "logits"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXAMPLE_BATCH = 2  # a batch of 1 would let torch.export specialise the batch axis to 1


@dataclass
class Converted:
    """An exported graph and how it was made."""

    proto: object  # onnx.ModelProto
    exporter: str  # "dynamo" | "torchscript"
    opset: int  # the default-domain opset actually in the file


def exportable_copy(model: nn.Module) -> nn.Module:
    """An eval-mode copy with RReLU replaced by LeakyReLU((lower + upper) / 2).

    In eval mode RReLU *is* that LeakyReLU, and dynamo has no translation for RReLU.
    """
    model = copy.deepcopy(model).eval()
    for parent in model.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.RReLU):
                slope = (child.lower + child.upper) / 2
                setattr(parent, name, nn.LeakyReLU(slope, inplace=child.inplace))
    return model


def to_onnx(
    model: nn.Module, example: torch.Tensor, task: str, opset: int | None = None
) -> Converted:
    """Export with dynamo; on failure retry TorchScript and say why; both failing is an error."""
    try:
        proto = _dynamo(model, example, task, opset)
        exporter = "dynamo"
    except Exception as exc:  # torch.export raises many types; every one means "try the other"
        dynamo_reason = _reason(exc)
        note(f"dynamo exporter failed ({dynamo_reason}); retrying with the TorchScript exporter")
        try:
            proto = _torchscript(model, example, task, opset)
        except Exception as exc2:  # same: any failure here is reported below
            name = getattr(model, "cnnkit_name", type(model).__name__)
            raise CnnkitError(
                f"cannot export {name}: dynamo: {dynamo_reason}; torchscript: {_reason(exc2)}"
            ) from None
        exporter = "torchscript"
    actual = real_opset(proto)
    if opset is not None and actual != opset:
        note(f"requested opset {opset}, the {exporter} exporter wrote opset {actual}")
    return Converted(proto, exporter, actual)


def real_opset(proto) -> int:
    """The default-domain ("" / ai.onnx) opset a model imports."""
    return next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def dynamic_axes(task: str) -> dict[int, str]:
    """Batch is always dynamic; segmentation nets also take any height and width."""
    return {0: "batch", 2: "height", 3: "width"} if task == "segmentation" else {0: "batch"}


def name_dynamic_axes(proto, task: str) -> None:
    """Rename torch.export's symbols (s0, s77...) to batch/height/width; refuse fixed axes.

    Dim.AUTO lets torch.export prove what it can (FCN unpooling needs that: named Dims with
    ranges fail its guards), at the price that an axis could come out fixed; that is an
    export failure here, not something to discover at inference time.
    """
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    rename = {}
    for axis, name in dynamic_axes(task).items():
        if not dims[axis].dim_param:
            raise RuntimeError(f"torch.export fixed the {name} axis to {dims[axis].dim_value}")
        rename[dims[axis].dim_param] = name
    for value in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param in rename:
                dim.dim_param = rename[dim.dim_param]


def _dynamo(model: nn.Module, example: torch.Tensor, task: str, opset: int | None):
    with captured_chatter():
        program = torch.onnx.export(
            model,
            (example,),
            dynamo=True,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_shapes=({axis: torch.export.Dim.AUTO for axis in dynamic_axes(task)},),
            opset_version=opset,
            external_data=False,
            verbose=False,
        )
    proto = program.model_proto
    name_dynamic_axes(proto, task)
    return proto


def _torchscript(model: nn.Module, example: torch.Tensor, task: str, opset: int | None):
    import onnx

    names = dynamic_axes(task)
    buffer = io.BytesIO()
    with captured_chatter(), silenced_fds():
        torch.onnx.export(
            model,
            (example,),
            buffer,
            dynamo=False,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: names, OUTPUT: names},
            opset_version=opset,
            verbose=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def _reason(exc: BaseException) -> str:
    """One short line: the failing op if the messages name one, else the root cause's first line."""
    chain = [exc]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    text = ANSI.sub("", "\n".join(str(e) for e in chain))
    ops = re.findall(r"(?:aten|prims)(?:::|\.)[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?", text)
    root = chain[-1]
    lines = ANSI.sub("", str(root)).strip().splitlines()
    first = f"{type(root).__name__}: {lines[0][:160]}" if lines else type(root).__name__
    return f"{first} (at {', '.join(dict.fromkeys(ops))})" if ops else first
