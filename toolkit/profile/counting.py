"""Counting rules per ONNX op: which inputs are parameters, MACs, FLOPs, precision (torch-free).

MACs are multiply-accumulates of the dense ops (Conv, ConvTranspose, Gemm, MatMul and their
int8 forms). FLOPs = 2 x MACs for those, plus the per-element costs in FLOP_RULES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto

from toolkit.profile.graph import Graph

if TYPE_CHECKING:
    from collections.abc import Sequence

CONVENTION = (
    "MACs = multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul and their int8 forms "
    "(QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, QDQ-wrapped Conv/Gemm); "
    "FLOPs = 2 x MACs + the per-element costs of flop_rules; torchvision's '1.81 GFLOPS' "
    "for ResNet-18 is MACs. Params = elements of weight/bias tensors, each tensor counted "
    "once; BatchNormalization running mean/var are buffers; shape constants are neither."
)

# op -> (input index of the data, input index of the weight) for the dense ops.
DENSE = {
    "Conv": (0, 1),
    "ConvTranspose": (0, 1),
    "Gemm": (0, 1),
    "MatMul": (0, 1),
    "QLinearConv": (0, 3),
    "QLinearMatMul": (0, 3),
    "ConvInteger": (0, 1),
    "MatMulInteger": (0, 1),
    "QGemm": (0, 3),  # com.microsoft, written by QOperator quantization
}
INTEGER_OPS = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QGemm"}
# Input slots holding parameters where the generic rule (constant float inputs) is wrong.
PARAM_SLOTS = {
    "QLinearConv": (3, 8),
    "QLinearMatMul": (0, 3),
    "ConvInteger": (0, 1),
    "MatMulInteger": (0, 1),
    "QGemm": (3, 6),
    "QuantizeLinear": (),
    "DequantizeLinear": (),
    "DynamicQuantizeLinear": (),
    "QLinearAdd": (),
    "QLinearMul": (),
    "BatchNormalization": (1, 2),
}
BUFFER_SLOTS = {"BatchNormalization": (3, 4)}
# Divisors and exponents are literals (e.g. the window counts of an adaptive pool), not weights.
LITERAL_SLOTS = {"Div": (1,), "Pow": (1,), "Clip": (1, 2), "Where": (0,)}
# Ops that only move data around a constant: follow their first input back to the weight.
DATA_FIRST = {
    "Identity", "Cast", "DequantizeLinear", "QuantizeLinear", "Reshape", "Unsqueeze",
    "Squeeze", "Transpose", "Gather", "Slice", "Expand", "Tile", "Flatten", "Pad",
}  # fmt: skip
EIGHT_BIT = {TensorProto.INT8, TensorProto.UINT8, TensorProto.INT4, TensorProto.UINT4}
FLOAT_TYPES = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}

ELEMENTWISE = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "Tanh",
    "HardSwish", "Softplus", "Softsign", "Gelu", "Mish", "Clip", "Add", "Sub", "Mul", "Div",
    "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Max", "Min", "Sum", "Mean",
    "Erf", "Floor", "Ceil", "Round", "Sign", "Where", "Equal", "Greater", "Less", "Not",
    "And", "Or", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
    "QLinearAdd", "QLinearMul", "BatchNormalization", "InstanceNormalization",
    "LayerNormalization", "LRN", "Resize", "Upsample", "Softmax", "LogSoftmax",
}  # fmt: skip
POOLS = {"MaxPool", "AveragePool", "LpPool", "QLinearAveragePool"}
REDUCTIONS = {
    "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "ReduceMean", "ReduceMax",
    "ReduceMin", "ReduceSum", "ReduceL2", "ReduceL1", "ReduceProd", "ArgMax", "ArgMin",
    "QLinearGlobalAveragePool",
}  # fmt: skip
FREE = {
    "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Cast", "Concat",
    "Split", "Slice", "Gather", "GatherND", "Shape", "Size", "Constant", "ConstantOfShape",
    "Dropout", "Pad", "Expand", "Tile", "MaxUnpool", "DepthToSpace", "SpaceToDepth", "Range",
    "CastLike", "TopK", "NonZero", "ScatterND", "GatherElements", "QLinearConcat",
}  # fmt: skip
FLOP_RULES = {
    "Conv, ConvTranspose, Gemm, MatMul (+ int8 forms)": "2 per MAC",
    "elementwise, BatchNormalization, LRN, Resize, Softmax, Q/DQ": "1 per output element",
    "MaxPool, AveragePool, LpPool": "1 per window element per output element",
    "global pools and reductions": "1 per input element",
    "shape and data-movement ops (Reshape, Concat, Pad, ...)": "0",
}


@dataclass
class Counts:
    """What one node costs and owns."""

    macs: int = 0
    flops: int = 0
    params: list[str] | None = None  # constant tensors (roots) owned as parameters
    buffers: list[str] | None = None
    precision: str = ""
    counted: bool = True


def count_node(node: onnx.NodeProto, graph: Graph) -> Counts:
    """MACs, FLOPs, owned parameter/buffer tensors and precision of one node."""
    op = node.op_type
    counts = Counts(precision=precision(node, graph))
    if op in DENSE:
        counts.macs = dense_macs(node, graph)
        counts.flops = 2 * counts.macs
    elif op in ELEMENTWISE:
        counts.flops = output_numel(node, graph)
        if op in ("QuantizeLinear", "DequantizeLinear") and graph.is_constant(node.input[0]):
            counts.flops = 0  # a weight's (de)quantization is folded at load time
    elif op in POOLS:
        kernel = [a for a in node.attribute if a.name == "kernel_shape"]
        window = int(np.prod(kernel[0].ints)) if kernel else 1
        counts.flops = output_numel(node, graph) * window
    elif op in REDUCTIONS:
        counts.flops = graph.numel(node.input[0]) or 0
    elif op not in FREE:
        counts.counted = False
    counts.params, counts.buffers = owned_tensors(node, graph)
    return counts


def output_numel(node: onnx.NodeProto, graph: Graph) -> int:
    """Elements of the first output (0 when unknown)."""
    return graph.numel(node.output[0]) or 0


def dense_macs(node: onnx.NodeProto, graph: Graph) -> int:
    """Multiply-accumulates of Conv/ConvTranspose/Gemm/MatMul and their int8 forms."""
    op = node.op_type
    data, weight = DENSE[op]
    w_shape = graph.shapes.get(node.input[weight])
    x_shape = graph.shapes.get(node.input[data])
    out = graph.numel(node.output[0])
    if w_shape is None or x_shape is None or out is None:
        return 0
    if op in ("Conv", "QLinearConv", "ConvInteger"):
        return out * int(np.prod(w_shape[1:]))  # W: (Cout, Cin/groups, k...)
    if op == "ConvTranspose":
        return int(np.prod(x_shape)) * int(np.prod(w_shape[1:]))  # W: (Cin, Cout/groups, k...)
    if op in ("Gemm", "QGemm"):
        trans_a = next((a.i for a in node.attribute if a.name == "transA"), 0)
        return out * (x_shape[0] if trans_a else x_shape[1])
    return out * x_shape[-1]  # MatMul: each output element is a K-long dot product


def precision(node: onnx.NodeProto, graph: Graph) -> str:
    """'int8' for quantized dense ops (QOperator, integer or QDQ), else the output type."""
    if node.op_type in INTEGER_OPS:
        return "int8"
    if node.op_type in DENSE:
        weight = node.input[DENSE[node.op_type][1]]
        if any(dq and graph.dtypes.get(root) in EIGHT_BIT for root, dq in trace(weight, graph)):
            return "int8"
    dtype = graph.dtypes.get(node.output[0]) if node.output else None
    return onnx.helper.tensor_dtype_to_np_dtype(dtype).name if dtype else ""


def owned_tensors(node: onnx.NodeProto, graph: Graph) -> tuple[list[str], list[str]]:
    """The constant tensors (initializers) this node owns as parameters and as buffers."""
    op = node.op_type
    slots = PARAM_SLOTS.get(op)
    explicit = slots is not None
    if slots is None:
        literal = LITERAL_SLOTS.get(op, ())
        slots = tuple(
            i
            for i, name in enumerate(node.input)
            if name and graph.is_constant(name) and i not in literal
        )
    params = roots(node, slots, graph, require_float=not explicit, weight_op=op in DENSE)
    buffers = roots(node, BUFFER_SLOTS.get(op, ()), graph, require_float=False, weight_op=True)
    return params, buffers


def roots(
    node: onnx.NodeProto,
    slots: Sequence[int],
    graph: Graph,
    *,
    require_float: bool,
    weight_op: bool,
) -> list[str]:
    """Initializers behind the given input slots that count as parameters."""
    found = []
    for slot in slots:
        if slot >= len(node.input) or not node.input[slot]:
            continue
        if not graph.is_constant(node.input[slot]):
            continue
        for root, via_dq in trace(node.input[slot], graph):
            dtype = graph.dtypes.get(root)
            size = int(np.prod(graph.constants[root].dims, dtype=np.int64))
            if require_float and not via_dq and dtype not in FLOAT_TYPES:
                continue  # integer shape constants are not parameters
            if require_float and not weight_op and size <= 1:
                continue  # a literal such as `x * 0.5` is not a parameter
            found.append(root)
    return found


def trace(name: str, graph: Graph, via_dq: bool = False) -> list[tuple[str, bool]]:
    """Follow Identity/Cast/DequantizeLinear/... chains back to initializers."""
    if name in graph.constants:
        return [(name, via_dq)]
    node = graph.producer.get(name)
    if node is None or name not in graph.folded:
        return []
    if node.op_type in DATA_FIRST:
        sources = node.input[:1]
    elif node.op_type in ("Shape", "Size"):
        sources = []
    else:
        sources = [i for i in node.input if i]
    dq = via_dq or node.op_type == "DequantizeLinear"
    return [found for src in sources for found in trace(src, graph, dq)]
