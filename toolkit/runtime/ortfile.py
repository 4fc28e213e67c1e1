"""`.ort` files (onnxruntime's ORT format, for minimal builds): what `interpret` reads of them.

The ORT format is a flatbuffer that the onnx package cannot parse; onnxruntime itself
reports the inputs, outputs and metadata_props (which the converter keeps). The graph is
not visible, so the op ending an output is unknown: a cnnkit file's metadata says the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import check_onnx_path, metadata_from_session
from toolkit.runtime.decide import TensorInfo
from toolkit.runtime.session import LOAD_ERRORS

# onnxruntime's type strings -> numpy dtype names, as TensorInfo carries them
DTYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(uint16)": "uint16",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}


@dataclass(frozen=True)
class OrtFacts:
    """What onnxruntime reports of an .ort file."""

    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    metadata: ModelMeta
    producer: str


def tensor_info(node_arg) -> TensorInfo:
    """TensorInfo of an onnxruntime NodeArg (dynamic axes: their name, or None)."""
    dims = tuple(d if isinstance(d, int) and d > 0 else (d or None) for d in node_arg.shape)
    return TensorInfo(node_arg.name, DTYPES.get(node_arg.type, node_arg.type), dims)


def ort_facts(path: str | Path) -> OrtFacts:
    """Open the .ort file in onnxruntime (no optimisation: it has been applied) and read it."""
    import onnxruntime as ort

    path = check_onnx_path(path)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except LOAD_ERRORS as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CnnkitError(f"{path}: not an ORT-format model onnxruntime loads ({first})") from None
    meta = session.get_modelmeta()
    return OrtFacts(
        inputs=tuple(tensor_info(i) for i in session.get_inputs()),
        outputs=tuple(tensor_info(o) for o in session.get_outputs()),
        metadata=metadata_from_session(session, path),
        producer=" ".join(p for p in (meta.producer_name, str(meta.version or "")) if p),
    )
