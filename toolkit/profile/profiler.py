"""Profile an ONNX model: per-node parameters, MACs, FLOPs, shapes, receptive field (torch-free)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import numpy as np
import onnx

from toolkit.profile.counting import CONVENTION, FLOP_RULES, count_node
from toolkit.profile.graph import Graph, load_graph
from toolkit.profile.receptive import Field, receptive_fields
from toolkit.profile.summary import Layer, Profile, Totals

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from toolkit.profile.counting import Counts


def profile_onnx(
    path_or_proto: str | Path | onnx.ModelProto,
    *,
    input_size: Sequence[int] | dict[str, Sequence[int]] | None = None,
    batch: int = 1,
) -> Profile:
    """Profile an .onnx file or ModelProto at `input_size` (C,H,W of the image input, or
    {input name: dims after the batch} for models with several inputs) and `batch`."""
    graph = load_graph(path_or_proto, input_size=input_size, batch=batch)
    fields, warnings = receptive_fields(graph)
    layers, owners, buffer_owners, uncounted = [], defaultdict(list), defaultdict(list), Counter()
    for index, node in enumerate(graph.model.graph.node):
        if node.op_type == "Constant" or all(o in graph.folded for o in node.output if o):
            continue  # weight preprocessing and shape arithmetic: folded, not a layer
        layer, counts = build_layer(node, index, graph, fields.get(node.output[0]))
        for name in counts.params or []:
            owners[name].append(layer)
        for name in counts.buffers or []:
            buffer_owners[name].append(layer)
        if not counts.counted:
            uncounted[node.op_type] += 1
        layers.append(layer)
    totals = Totals(
        params=sum(numel(graph, name) for name in owners),
        buffers=sum(numel(graph, name) for name in buffer_owners if name not in owners),
        macs=sum(layer.macs for layer in layers),
        flops=sum(layer.flops for layer in layers),
        activation_bytes=sum(layer.activation_bytes for layer in layers),
        int8_macs=sum(layer.macs for layer in layers if layer.precision == "int8"),
        param_bytes=sum(nbytes(graph, name) for name in owners),
    )
    warnings += shared_warnings(owners, graph)
    if uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(uncounted.items()))
        warnings.append(
            f"uncounted ops (no counting rule, their cost is not in the totals): {listed}"
        )
    return Profile(
        model=str(graph.metadata.model or graph.name),
        input_size=list(graph.input_shape[1:]),
        batch=int(graph.input_shape[0]) if graph.input_shape else batch,
        convention=CONVENTION,
        flop_rules=dict(FLOP_RULES),
        layers=layers,
        totals=totals,
        warnings=warnings,
        source="onnx",
        uncounted=sorted(uncounted),
        inputs={name: list(shape) for name, shape in graph.input_shapes.items()},
    )


def build_layer(
    node: onnx.NodeProto, index: int, graph: Graph, field: Field | None
) -> tuple[Layer, Counts]:
    """One table row for a node, and its Counts (for parameter ownership)."""
    counts = count_node(node, graph)
    out = node.output[0]
    shape = graph.shapes.get(out)
    layer = Layer(
        name=node.name or f"{node.op_type}_{index}",
        op=node.op_type,
        output_shape=list(shape) if shape is not None else None,
        params=sum(numel(graph, name) for name in set(counts.params or [])),
        buffers=sum(numel(graph, name) for name in set(counts.buffers or [])),
        macs=counts.macs,
        flops=counts.flops,
        activation_bytes=sum(activation_bytes(graph, o) for o in node.output if o),
        precision=counts.precision,
        counted=counts.counted,
    )
    if field is not None and field.size:
        layer.receptive_field = list(field.size)
        layer.jump = list(field.jump)
        layer.start = list(field.start)
        layer.whole_input = field.whole
    return layer, counts


def numel(graph: Graph, name: str) -> int:
    """Elements of a constant tensor."""
    return int(np.prod(graph.constants[name].dims, dtype=np.int64))


def nbytes(graph: Graph, name: str) -> int:
    """Storage bytes of a constant tensor."""
    tensor = graph.constants[name]
    itemsize = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    return numel(graph, name) * itemsize


def activation_bytes(graph: Graph, name: str) -> int:
    """Bytes of one output tensor (0 when its shape or type is unknown)."""
    count, dtype = graph.numel(name), graph.dtypes.get(name)
    if count is None or not dtype:
        return 0
    return count * onnx.helper.tensor_dtype_to_np_dtype(dtype).itemsize


def shared_warnings(owners: dict[str, list[Layer]], graph: Graph) -> list[str]:
    """One warning for the tensors used by several layers (counted once in the totals)."""
    shared = []
    for name, layers in owners.items():
        unique = list({id(layer): layer for layer in layers}.values())
        if len(unique) < 2:
            continue
        for layer in unique:
            layer.shared = True
        used_by = ", ".join(layer.name for layer in unique[:4])
        more = f" and {len(unique) - 4} more" if len(unique) > 4 else ""
        shared.append(f"{name!r} ({numel(graph, name):,} elements) by {used_by}{more}")
    if not shared:
        return []
    listed = "; ".join(shared[:3]) + (f"; and {len(shared) - 3} more" if len(shared) > 3 else "")
    count = "a tensor is" if len(shared) == 1 else f"{len(shared)} tensors are"
    return [f"{count} shared (layers marked *), counted once in the totals: {listed}"]
