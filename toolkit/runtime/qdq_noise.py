"""The noise each QDQ pair adds on its own: float activations through that pair's scale.

Comparing a QDQ model's tensors with the float model's (`xmodel` error) mixes a tensor's
own rounding with everything upstream: downstream of one bad layer every tensor looks
worse than the culprit. Here each activation of the *float* model goes through the
QuantizeLinear/DequantizeLinear parameters the QDQ file gives it, so a tensor's SQNR is
its own quantization noise alone; a per-tensor range blown up by one channel shows as a
worst-channel SQNR near 0 dB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.onnxfile import load_onnx
from toolkit.runtime.intermediate import IntermediateTensors
from toolkit.runtime.tensorstats import TensorStats, Tolerance

SUFFIX = "_QuantizeLinear_Input"  # the quantizer's name for a graph output's float copy


def qdq_parameters(proto) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{float tensor name: (scale, zero point)} of every QuantizeLinear on an activation."""
    from onnx import numpy_helper

    inits = {t.name: t for t in proto.graph.initializer}
    params = {}
    for node in proto.graph.node:
        if node.op_type != "QuantizeLinear" or node.input[1] not in inits:
            continue
        name = node.input[0]
        name = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
        scale = numpy_helper.to_array(inits[node.input[1]])
        zero = (
            numpy_helper.to_array(inits[node.input[2]])
            if len(node.input) > 2 and node.input[2] in inits
            else np.zeros((), np.uint8)
        )
        params[name] = (scale, zero)
    return params


def fake_quantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """QuantizeLinear then DequantizeLinear, per tensor (activations have one scale)."""
    info = np.iinfo(zero.dtype)
    s, z = float(np.asarray(scale).ravel()[0]), float(np.asarray(zero).ravel()[0])
    q = np.clip(np.rint(x / s) + z, info.min, info.max)
    return ((q - z) * s).astype(np.float32)


def local_sqnr(float_path: Path, qdq_proto, x: np.ndarray, batch: int = 16) -> list[dict]:
    """One row per quantized activation, in graph order: {name, op, sqnr_db, ...}."""
    params = qdq_parameters(qdq_proto)
    tol = Tolerance(None, None, min_sqnr=0.0)
    graph = load_onnx(float_path, load_external_data=False).graph
    inputs = [(i.name, "graph input") for i in graph.input]
    nodes = [(out, node.op_type) for node in graph.node for out in node.output]
    order = [(name, op) for name, op in inputs + nodes if name in params]
    stats = {name: TensorStats() for name, _ in order}
    tensors = IntermediateTensors.open(float_path)
    try:
        for start in range(0, len(x), batch):
            acts = tensors.run(x[start : start + batch])
            for name, _ in order:
                value = acts.get(name)
                if value is None:
                    continue
                channels = value.shape[1] if value.ndim > 2 else None
                stats[name].update(fake_quantize(value, *params[name]), value, tol, channels)
    finally:
        tensors.close()
    return [
        {"name": name, "op": op, **stats[name].summary(tol)}
        for name, op in order
        if stats[name].count
    ]
