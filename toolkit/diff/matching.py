"""Which tensor of side A goes with which of side B, listed in graph order.

fp32 vs QDQ: onnxruntime's `create_activation_matching` pairs each float tensor with its
dequantised copy. ONNX vs ONNX otherwise: the same tensor name. torch vs ONNX: a block's
module path and the last node the exporter tagged with that path (its name scopes).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    """One compared tensor: its display name, producing op, and the key on each side."""

    name: str
    op: str
    key_a: str
    key_b: str
    post_qdq: str | None = None  # "a" or "b": that side's key is resolved through the QDQ pair


def module_scopes(proto) -> dict[str, str]:
    """{module path: the tensor its block outputs} from the exporter's node name scopes."""
    scopes: dict[str, str] = {}
    for node in proto.graph.node:
        for prop in node.metadata_props:
            if prop.key != "pkg.torch.onnx.name_scopes" or not node.output:
                continue
            try:
                names = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                continue
            for path in names[1:-1]:  # '' is the root module, the last entry the op itself
                scopes[path] = node.output[0]
    return scopes


def onnx_pairs(order_a, order_b, quantized: str | None) -> list[Pair]:
    """Pairs of two ONNX sides by tensor name, in the float (or B's) graph order."""
    order = order_b if quantized != "b" else order_a
    return [Pair(name, op, name, name, quantized) for name, op in order]


def torch_onnx_pairs(torch_order, proto, torch_is: str) -> list[Pair]:
    """Pairs of torch blocks and the ONNX tensors the exporter made of them."""
    scopes = module_scopes(proto)
    position = {out: i for i, node in enumerate(proto.graph.node) for out in node.output}
    found = []
    for path, cls in torch_order:
        tensor = scopes.get(path)
        if tensor is None:
            continue
        key_a, key_b = (path, tensor) if torch_is == "a" else (tensor, path)
        # graph order; a block before the container that ends with the same tensor
        found.append(
            ((position[tensor], -path.count(".")), Pair(f"{path} -> {tensor}", cls, key_a, key_b))
        )
    return [pair for _, pair in sorted(found, key=lambda item: item[0])]


def resolve(values_qdq: dict, values_float: dict) -> dict:
    """QDQ activations renamed to the float tensors they stand for (the dequantised copies)."""
    from onnxruntime.quantization.qdq_loss_debug import create_activation_matching

    matched = create_activation_matching(
        {k: [v] for k, v in values_qdq.items()}, {k: [v] for k, v in values_float.items()}
    )
    resolved = {k: v for k, v in values_qdq.items()}  # unquantized tensors keep their name
    for name, match in matched.items():
        resolved[name] = match["post_qdq"][0]
    return resolved
