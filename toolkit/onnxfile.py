"""Reading ONNX files safely and the cnnkit metadata contract (torch-free).

Metadata keys live in `metadata_props`, values JSON-encoded: the runtime needs nothing but
the .onnx file to preprocess inputs and name outputs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from toolkit.errors import CnnkitError

META_PREFIX = "cnnkit."
META_KEYS = ("format", "task", "classes", "input_size", "mean", "std", "model", "model_args")
META_FORMAT = "1"
MAX_COUNT = 1_000_000  # classes, channels, pixels per side: anything above is a damaged file
MAX_META_PIXELS = 2**31  # H*W of a declared input size; infer applies its --max-pixels too
COUNT_ARGS = ("num_classes", "in_channels")  # builder options that size the model


def write_metadata(model_proto, meta: dict) -> None:
    """Set cnnkit.* metadata_props on an onnx.ModelProto (values JSON-encoded)."""
    values = {"format": META_FORMAT, **meta}
    check_metadata(values, "export")
    keep = [p for p in model_proto.metadata_props if not p.key.startswith(META_PREFIX)]
    del model_proto.metadata_props[:]
    model_proto.metadata_props.extend(keep)
    for key in META_KEYS:
        if key in values:
            prop = model_proto.metadata_props.add()
            prop.key = META_PREFIX + key
            prop.value = json.dumps(values[key], allow_nan=False)


def read_metadata(model_proto, where="metadata") -> dict:
    """The cnnkit.* metadata of an onnx.ModelProto as Python values (checked); {} if foreign."""
    meta = {}
    for prop in model_proto.metadata_props:
        if prop.key.startswith(META_PREFIX):
            try:
                meta[prop.key[len(META_PREFIX) :]] = json.loads(prop.value)
            except json.JSONDecodeError:
                raise CnnkitError(f"metadata {prop.key} is not valid JSON") from None
    return check_metadata(meta, str(where))


def metadata_from_session(session, where="metadata") -> dict:
    """The cnnkit.* metadata as seen by an onnxruntime InferenceSession (checked)."""
    custom = session.get_modelmeta().custom_metadata_map
    meta = {}
    for key, value in custom.items():
        if key.startswith(META_PREFIX):
            try:
                meta[key[len(META_PREFIX) :]] = json.loads(value)
            except json.JSONDecodeError:
                raise CnnkitError(f"metadata {key} is not valid JSON") from None
    return check_metadata(meta, str(where))


def is_number(value) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def metadata_problem(key: str, value) -> str | None:
    """What is wrong with one cnnkit.* value, or None when it has the contract's shape."""
    if key in ("task", "model", "format"):
        return None if isinstance(value, str) else "expected a string"
    if key == "classes":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else "expected a list of class names"
    if key == "input_size":
        ok = isinstance(value, (list, tuple)) and len(value) == 3 and all(map(is_count, value))
        if ok and value[1] * value[2] > MAX_META_PIXELS:
            return f"over {MAX_META_PIXELS:,} pixels per image"
        return None if ok else "expected [C, H, W], three positive integers"
    if key in ("mean", "std"):
        ok = isinstance(value, list) and value and all(is_number(v) for v in value)
        if ok and key == "std" and min(value) <= 0:
            return "expected positive numbers"
        return None if ok else "expected a list of finite numbers"
    if key == "model_args":
        if not isinstance(value, dict):
            return "expected an object of builder options"
        bad = [k for k in COUNT_ARGS if k in value and not is_count(value[k])]
        return f"{bad[0]} must be a positive integer (at most {MAX_COUNT:,})" if bad else None
    return None


def is_count(value) -> bool:
    """A positive int no larger than MAX_COUNT (not a bool, not a float like 1e10)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT


def check_metadata(meta: dict, where: str = "metadata") -> dict:
    """`meta`, after checking each known key's type; a CnnkitError naming the bad one."""
    for key, value in meta.items():
        problem = metadata_problem(key, value)
        if problem is None and key == "model_args":
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                problem = "holds NaN, infinity or values JSON cannot hold"
        if problem:
            shown = json.dumps(value, default=repr)[:60]
            raise CnnkitError(f"{where}: cnnkit.{key} = {shown}: {problem}")
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


def model_bytes(path: str | Path, proto=None) -> int:
    """Bytes of an ONNX file plus every external data file it names.

    The names come from `proto` when given, else from the file (its weights not loaded)."""
    from onnx.external_data_helper import _get_all_tensors, uses_external_data

    path = Path(path)
    if proto is None:
        proto = load_onnx(path, load_external_data=False)
    locations = {
        entry.value
        for tensor in _get_all_tensors(proto)
        if uses_external_data(tensor)
        for entry in tensor.external_data
        if entry.key == "location"
    }
    return path.stat().st_size + sum((path.parent / loc).stat().st_size for loc in locations)
