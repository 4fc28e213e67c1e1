"""Receptive fields through the whole ONNX DAG (Araujo, Norris and Sim, Distill 2019), torch-free.

Every tensor derived from the image input carries, per spatial axis (the trailing axes),
the field size r, the jump j (distance in input pixels between adjacent outputs) and the
start s (input coordinate of the centre of output 0's field). A window of kernel k,
stride t, dilation d and begin-padding p maps (r, j, s) to (r + (k_eff - 1) j, j t,
s + ((k_eff - 1)/2 - p) j) with k_eff = d (k - 1) + 1. Merges take the largest field;
upsampling divides the jump; global pools, Flatten, Gemm and MatMul see the whole input
(a window over the full map).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import onnx

from toolkit.profile.graph import Graph

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

WINDOWS = {"Conv", "ConvInteger", "QLinearConv", "MaxPool", "AveragePool", "LpPool"}
WEIGHT_INDEX = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3, "ConvTranspose": 1}
GLOBAL = {
    "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "QLinearGlobalAveragePool",
    "Flatten", "Gemm", "QGemm", "MatMul", "QLinearMatMul", "MatMulInteger",
}  # fmt: skip
REDUCE = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL1", "ReduceL2"}
UPSAMPLE = {"Resize", "Upsample", "MaxUnpool"}
MERGES = {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Concat", "Where"}


@dataclass(frozen=True)
class Field:
    """Receptive field of a tensor, per spatial axis; `whole` once the map is pooled away."""

    size: tuple[float, ...]
    jump: tuple[float, ...]
    start: tuple[float, ...]
    whole: bool = False


def receptive_fields(graph: Graph) -> tuple[dict[str, Field], list[str]]:
    """Field of every tensor computed from the image input, plus misalignment warnings."""
    rank = len(graph.input_shape)
    axes = max(rank - 2, 0)
    fields = {graph.input_name: Field((1.0,) * axes, (1.0,) * axes, (0.0,) * axes)}
    warnings: list[str] = []
    for node in graph.model.graph.node:
        sources = [i for i in node.input if i in fields]
        if not sources or not node.output:
            continue
        inputs = [fields[i] for i in sources]
        out = propagate(node, inputs, graph.shapes.get(sources[0]), graph, warnings)
        for name in node.output:
            if name:
                fields[name] = out
    return fields, warnings


def propagate(
    node: onnx.NodeProto,
    inputs: list[Field],
    in_shape: tuple[int, ...] | None,
    graph: Graph,
    warnings: list[str],
) -> Field:
    """The field of a node's outputs from the fields of its inputs (and the first's shape)."""
    op, field = node.op_type, inputs[0]
    if field.whole or not field.size:
        return merge(node, inputs, warnings) if len(inputs) > 1 else field
    if in_shape is not None and len(in_shape) < 1 + len(field.size):
        return whole(field, None)
    if op in WINDOWS:
        return window(node, field, graph, in_shape)
    if op == "ConvTranspose":
        return transposed(node, field, graph)
    n = len(field.size)
    if op in GLOBAL or (op == "Reshape" and reshaped_away(node, graph, n)):
        return whole(field, in_shape)
    if op in REDUCE and reduces_space(node, graph, in_shape, n):
        return whole(field, in_shape)
    if op in UPSAMPLE:
        return upsample(node, field, graph)
    if op == "Pad":
        return padded(node, field, graph)
    if op == "Slice":
        return sliced(node, field, graph)
    if op in MERGES and len(inputs) > 1:
        return merge(node, inputs, warnings)
    return field


def attr(node: onnx.NodeProto, name: str, default: object = None) -> Any:
    """An attribute's value, or the default."""
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def window(
    node: onnx.NodeProto, field: Field, graph: Graph, in_shape: tuple[int, ...] | None
) -> Field:
    """Conv and pooling: grow by the dilated kernel, multiply the jump by the stride.

    A window may span more axes than the field (LRN exported as a 3-D pool over C, H, W):
    the spatial axes are always the trailing ones.
    """
    n = len(field.size)
    kernel = attr(node, "kernel_shape")
    if kernel is None and node.op_type in WEIGHT_INDEX:
        kernel = graph.shapes[node.input[WEIGHT_INDEX[node.op_type]]][2:]
    k = len(kernel)
    strides = attr(node, "strides") or [1] * k
    dilations = attr(node, "dilations") or [1] * k
    begins = begin_pads(node, kernel, strides, dilations, in_shape)[-n:]
    kernel, strides, dilations = kernel[-n:], strides[-n:], dilations[-n:]
    size, jump, start = [], [], []
    for i in range(n):
        k_eff = dilations[i] * (kernel[i] - 1) + 1
        size.append(field.size[i] + (k_eff - 1) * field.jump[i])
        start.append(field.start[i] + ((k_eff - 1) / 2 - begins[i]) * field.jump[i])
        jump.append(field.jump[i] * strides[i])
    return Field(tuple(size), tuple(jump), tuple(start))


def begin_pads(
    node: onnx.NodeProto,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    in_shape: tuple[int, ...] | None,
) -> list[int]:
    """Padding before each window axis, from `pads` or `auto_pad`."""
    n = len(kernel)
    auto = attr(node, "auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER") and in_shape is not None:
        begins = []
        for i in range(n):
            size, k_eff = in_shape[len(in_shape) - n + i], dilations[i] * (kernel[i] - 1) + 1
            total = max((math.ceil(size / strides[i]) - 1) * strides[i] + k_eff - size, 0)
            begins.append(total // 2 if auto == "SAME_UPPER" else total - total // 2)
        return begins
    pads = attr(node, "pads")
    return list(pads[:n]) if pads and auto != "VALID" else [0] * n


def transposed(node: onnx.NodeProto, field: Field, graph: Graph) -> Field:
    """ConvTranspose: the jump shrinks by the stride, the kernel spans k_eff output steps."""
    n = len(field.size)
    kernel = attr(node, "kernel_shape") or graph.shapes[node.input[1]][2:]
    strides = attr(node, "strides") or [1] * n
    dilations = attr(node, "dilations") or [1] * n
    pads = attr(node, "pads") or [0] * (2 * n)
    size, jump, start = [], [], []
    for i in range(n):
        k_eff = dilations[i] * (kernel[i] - 1) + 1
        step = field.jump[i] / strides[i]
        size.append(field.size[i] + (k_eff - 1) * step)
        start.append(field.start[i] + (pads[i] - (k_eff - 1) / 2) * step)
        jump.append(step)
    return Field(tuple(size), tuple(jump), tuple(start))


def upsample(node: onnx.NodeProto, field: Field, graph: Graph) -> Field:
    """Resize/Upsample/MaxUnpool: the jump divides by the scale; linear modes add one step."""
    in_shape, out_shape = graph.shapes.get(node.input[0]), graph.shapes.get(node.output[0])
    if in_shape is None or out_shape is None:
        return field
    mode = attr(node, "mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    # MaxUnpool puts input i somewhere in output window [i s, (i + 1) s): no half-pixel shift
    default = b"asymmetric" if node.op_type == "MaxUnpool" else b"half_pixel"
    transform = attr(node, "coordinate_transformation_mode", default)
    transform = transform.decode() if isinstance(transform, bytes) else transform
    size, jump, start = [], [], []
    for i in range(len(field.size)):
        axis = i - len(field.size)  # spatial axes are the trailing ones
        n_in, n_out = in_shape[axis], out_shape[axis]
        if transform == "align_corners" and n_out > 1:
            scale = (n_out - 1) / max(n_in - 1, 1)
            offset = 0.0
        else:
            scale = n_out / n_in
            offset = 0.0 if transform == "asymmetric" else 0.5 / scale - 0.5
        extra = field.jump[i] if mode in ("linear", "cubic") and scale != 1 else 0.0
        size.append(field.size[i] + extra)
        start.append(field.start[i] + offset * field.jump[i])
        jump.append(field.jump[i] / scale)
    return Field(tuple(size), tuple(jump), tuple(start))


def padded(node: onnx.NodeProto, field: Field, graph: Graph) -> Field:
    """Pad: the first output sits `pad` input steps before the first input."""
    pads = attr(node, "pads")
    if pads is None and len(node.input) > 1:
        value = graph.value(node.input[1])
        pads = None if value is None else [int(v) for v in value]
    if pads is None:
        return field
    n, rank = len(field.size), len(pads) // 2
    begins = pads[rank - n : rank]
    start = tuple(s - p * j for s, p, j in zip(field.start, begins, field.jump, strict=True))
    return replace(field, start=start)


def sliced(node: onnx.NodeProto, field: Field, graph: Graph) -> Field:
    """Slice (a crop) on spatial axes: shift the start, multiply the jump by the step."""
    names = list(node.input[1:5]) + [""] * (5 - len(node.input))
    values = [graph.value(i) if i else None for i in names]
    in_shape = graph.shapes.get(node.input[0])
    unknown = any(name and value is None for name, value in zip(names, values, strict=True))
    if unknown or in_shape is None:
        return field
    starts = [int(v) for v in values[0]]
    axes = [int(a) for a in values[2]] if values[2] is not None else list(range(len(starts)))
    steps = [int(s) for s in values[3]] if values[3] is not None else [1] * len(starts)
    start, jump = list(field.start), list(field.jump)
    for axis, begin, step in zip(axes, starts, steps, strict=True):
        axis = axis % len(in_shape)
        i = axis - (len(in_shape) - len(start))
        if i < 0:
            continue
        extent = in_shape[axis]
        begin = min(max(begin + extent if begin < 0 else begin, 0), extent)
        start[i] += begin * jump[i]
        jump[i] *= step
    return replace(field, start=tuple(start), jump=tuple(jump))


def whole(field: Field, in_shape: tuple[int, ...] | None) -> Field:
    """A window over the full feature map: every output sees every input position."""
    if in_shape is None or len(in_shape) < 1 + len(field.size):
        return replace(field, whole=True)
    extents = in_shape[len(in_shape) - len(field.size) :]
    size = tuple(r + (e - 1) * j for r, e, j in zip(field.size, extents, field.jump, strict=True))
    start = tuple(
        s + (e - 1) / 2 * j for s, e, j in zip(field.start, extents, field.jump, strict=True)
    )
    jump = tuple(j * e for j, e in zip(field.jump, extents, strict=True))
    return Field(size, jump, start, whole=True)


def reshaped_away(node: onnx.NodeProto, graph: Graph, n: int) -> bool:
    """True when a Reshape changes the trailing spatial axes (e.g. NCHW -> N x CHW)."""
    in_shape, out_shape = graph.shapes.get(node.input[0]), graph.shapes.get(node.output[0])
    if in_shape is None or out_shape is None:
        return True
    return len(out_shape) < n + 1 or tuple(out_shape[-n:]) != tuple(in_shape[-n:])


def reduces_space(
    node: onnx.NodeProto, graph: Graph, in_shape: tuple[int, ...] | None, n: int
) -> bool:
    """True when a Reduce* op reduces over a spatial axis."""
    axes = attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        value = graph.value(node.input[1])
        axes = None if value is None else [int(a) for a in value]
    if axes is None:
        return True  # no axes: reduce everything
    rank = len(in_shape) if in_shape is not None else 2 + n
    return any(a % rank >= rank - n for a in axes)


def merge(node: onnx.NodeProto, inputs: list[Field], warnings: list[str]) -> Field:
    """Add/Mul/Concat/...: the largest field; warn when branches are misaligned."""
    spatial = [f for f in inputs if f.size and not f.whole]
    if not spatial:
        return max(inputs, key=lambda f: max(f.size, default=0))
    best = max(spatial, key=lambda f: max(f.size))
    merged = Field(
        tuple(max(f.size[i] for f in spatial) for i in range(len(best.size))),
        best.jump,
        best.start,
    )
    aligned = all(close(f.jump, best.jump) and close(f.start, best.start) for f in spatial)
    if not aligned:
        described = "; ".join(f"jump {fmt(f.jump)} start {fmt(f.start)}" for f in spatial)
        warnings.append(
            f"{node.op_type} {node.name or node.output[0]!r} merges misaligned branches "
            f"({described}); reporting the largest field"
        )
    return merged


def close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal up to float noise."""
    return len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b, strict=True))


def fmt(values: tuple[float, ...]) -> str:
    """Compact text of per-axis values."""
    return "x".join(f"{v:g}" for v in values)
