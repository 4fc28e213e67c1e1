"""Reading ONNX files safely and the cnnkit metadata contract (torch-free).

Metadata keys live in `metadata_props`, values JSON-encoded: the runtime needs nothing but
the .onnx file to preprocess inputs and name outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.errors import CnnkitError

META_PREFIX = "cnnkit."
META_KEYS = ("format", "task", "classes", "input_size", "mean", "std", "model", "model_args")
META_FORMAT = "1"


def write_metadata(model_proto, meta: dict) -> None:
    """Set cnnkit.* metadata_props on an onnx.ModelProto (values JSON-encoded)."""
    values = {"format": META_FORMAT, **meta}
    keep = [p for p in model_proto.metadata_props if not p.key.startswith(META_PREFIX)]
    del model_proto.metadata_props[:]
    model_proto.metadata_props.extend(keep)
    for key in META_KEYS:
        if key in values:
            prop = model_proto.metadata_props.add()
            prop.key = META_PREFIX + key
            prop.value = json.dumps(values[key])


def read_metadata(model_proto) -> dict:
    """The cnnkit.* metadata of an onnx.ModelProto as Python values; {} for foreign files."""
    meta = {}
    for prop in model_proto.metadata_props:
        if prop.key.startswith(META_PREFIX):
            try:
                meta[prop.key[len(META_PREFIX) :]] = json.loads(prop.value)
            except json.JSONDecodeError:
                raise CnnkitError(f"metadata {prop.key} is not valid JSON") from None
    return meta


def metadata_from_session(session) -> dict:
    """The cnnkit.* metadata as seen by an onnxruntime InferenceSession."""
    custom = session.get_modelmeta().custom_metadata_map
    meta = {}
    for key, value in custom.items():
        if key.startswith(META_PREFIX):
            try:
                meta[key[len(META_PREFIX) :]] = json.loads(value)
            except json.JSONDecodeError:
                raise CnnkitError(f"metadata {key} is not valid JSON") from None
    return meta


def check_onnx_path(path: str | Path) -> Path:
    """A readable ONNX file path, or a CnnkitError saying what it is instead."""
    path = Path(path)
    if not path.exists():
        raise CnnkitError(f"{path}: no such file")
    if path.is_dir():
        raise CnnkitError(f"{path}: is a folder, expected an .onnx file")
    if path.stat().st_size == 0:
        raise CnnkitError(f"{path}: empty file, not an ONNX model")
    return path


def check_external_data(model_proto, folder: Path) -> None:
    """Refuse external-data locations that are absolute or escape the model's folder."""
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    root = folder.resolve()
    for tensor in _get_all_tensors(model_proto):
        if not uses_external_data(tensor):
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (root / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(root):
            raise CnnkitError(
                f"external data {location!r} of tensor {tensor.name!r} points outside "
                f"the model's folder {folder}; refused"
            )
        if not target.is_file():
            raise CnnkitError(f"external data file {location!r} of {tensor.name!r} is missing")


def load_onnx(path: str | Path, load_external_data: bool = True):
    """Load an ONNX model with clear errors for non-ONNX, truncated or unsafe files."""
    import onnx
    from google.protobuf.message import DecodeError

    path = check_onnx_path(path)
    try:
        model_proto = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, OSError) as exc:
        raise CnnkitError(f"{path}: not an ONNX model ({type(exc).__name__})") from None
    if not model_proto.graph.node and not model_proto.graph.input:
        raise CnnkitError(f"{path}: not an ONNX model (no graph)")
    check_external_data(model_proto, path.parent)
    if load_external_data:
        from onnx.external_data_helper import load_external_data_for_model

        load_external_data_for_model(model_proto, str(path.parent))
    return model_proto
