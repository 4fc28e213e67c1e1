"""Reading ONNX files safely, and their cnnkit metadata as a ModelMeta (torch-free).

Metadata keys live in `metadata_props`, values JSON-encoded (toolkit.meta): the runtime
needs nothing but the .onnx file to preprocess inputs and name outputs.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.meta import META_PREFIX, ModelMeta
from toolkit.runfolder import RunFolder


def write_metadata(model_proto, meta: ModelMeta) -> None:
    """Set the cnnkit.* metadata_props of an onnx.ModelProto (other props are kept)."""
    keep = [p for p in model_proto.metadata_props if not p.key.startswith(META_PREFIX)]
    del model_proto.metadata_props[:]
    model_proto.metadata_props.extend(keep)
    for key, value in meta.to_props().items():
        prop = model_proto.metadata_props.add()
        prop.key, prop.value = key, value


def read_metadata(model_proto, where="metadata") -> ModelMeta:
    """The cnnkit metadata of an onnx.ModelProto (checked); every field None if foreign."""
    return ModelMeta.from_props({p.key: p.value for p in model_proto.metadata_props}, str(where))


def metadata_from_session(session, where="metadata") -> ModelMeta:
    """The cnnkit metadata as seen by an onnxruntime InferenceSession (checked)."""
    return ModelMeta.from_props(session.get_modelmeta().custom_metadata_map, str(where))


ORT_SUFFIX = ".ort"  # onnxruntime's ORT format (minimal builds): onnx cannot parse it


def is_ort(path: str | Path) -> bool:
    """True for a file in the ORT format (by its name, as onnxruntime decides too)."""
    return Path(path).suffix.lower() == ORT_SUFFIX


def check_onnx_path(path: str | Path) -> Path:
    """A readable ONNX file path, or a CnnkitError saying what it is instead."""
    path = Path(path)
    if not path.exists():
        raise CnnkitError(f"{path}: no such file")
    if path.is_dir():
        raise CnnkitError(folder_message(path))
    if path.stat().st_size == 0:
        raise CnnkitError(f"{path}: empty file, not an ONNX model")
    if path.suffix in (".pt", ".pth") or starts_with(path, b"PK\x03\x04"):  # torch.save's zip
        raise CnnkitError(
            f"{path}: is a PyTorch checkpoint, not an ONNX model; export it first: "
            f"cnnkit export {path}"
        )
    return path


def starts_with(path: Path, magic: bytes) -> bool:
    """Whether the file's first bytes are `magic` (False when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(magic)) == magic
    except OSError:
        return False


def folder_message(path: Path) -> str:
    """What to pass instead of a folder: its model.onnx, or the export that makes one."""
    run = RunFolder(path)
    if run.onnx.is_file():
        return f"{path}: is a run folder; pass its model file: {run.onnx}"
    if run.is_run():
        return f"{path}: is a run folder without model.onnx; export it first: cnnkit export {path}"
    return f"{path}: is a folder, expected an .onnx file"


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
