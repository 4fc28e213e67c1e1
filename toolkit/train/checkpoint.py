"""Checkpoints: plain dicts that `torch.load(weights_only=True)` reads, written atomically."""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from toolkit import hub
from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.runfolder import RunFolder
from toolkit.safeio import publish

FORMAT = "cnnkit-checkpoint/1"
REQUIRED = (
    "format",
    "model",
    "model_args",
    "task",
    "classes",
    "input_size",
    "mean",
    "std",
    "state_dict",
)


def new_checkpoint(meta: ModelMeta, state_dict: dict, **training) -> dict:
    """A checkpoint dict: the model's metadata, its weights, then what resuming needs."""
    return {**meta.checkpoint_fields(), "state_dict": state_dict, **training}


def save_checkpoint(checkpoint: dict, path: str | Path) -> Path:
    """Write `checkpoint` atomically: temp file in the same folder, fsync, os.replace."""
    path = Path(path)
    checkpoint = {"format": FORMAT, **checkpoint}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        publish(tmp, path)  # the umask's mode, not mkstemp's 0600
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def resolve_checkpoint(source: str | Path, prefer: str = RunFolder.BEST) -> Path:
    """A run folder (its `prefer` file, else last.pt) or a .pt path -> the checkpoint path."""
    path = Path(source)
    if path.is_dir():
        for name in (prefer, RunFolder.LAST, RunFolder.BEST):
            if (path / name).is_file():
                return path / name
        raise CnnkitError(f"{path}: run folder has no best.pt or last.pt")
    if not path.exists():
        raise CnnkitError(f"{path}: no such checkpoint or run folder")
    return path


def load_failure(exc: Exception) -> str:
    """The line of a torch.load error that says what is wrong, without torch's advice."""
    advice = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(advice)]
    return (useful or lines or [type(exc).__name__])[0][:160]


def load_checkpoint(source: str | Path, prefer: str = RunFolder.BEST) -> dict:
    """Read and validate a cnnkit checkpoint; never unpickles arbitrary objects."""
    path = resolve_checkpoint(source, prefer)
    try:
        with warnings.catch_warnings():  # torch warns about legacy pickles; we say it in one line
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # weights_only met code or a non-pickle file
        raise CnnkitError(
            f"{path}: refused: not a plain cnnkit checkpoint ({load_failure(exc)}); "
            "only tensors and plain values are unpickled"
        ) from None
    except Exception as exc:  # torch raises many types for foreign or damaged files
        reason = load_failure(exc)
        raise CnnkitError(f"{path}: not a readable cnnkit checkpoint ({reason})") from None
    return checked(checkpoint, path)


def checked(checkpoint: object, path: Path) -> dict:
    """A loaded checkpoint validated against the format: the format tag and required keys."""
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        found = checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint)
        raise CnnkitError(f"{path}: checkpoint format is {found!r}, expected {FORMAT!r}")
    missing = [key for key in REQUIRED if key not in checkpoint]
    if missing:
        raise CnnkitError(f"{path}: checkpoint lacks {', '.join(missing)}")
    ModelMeta.from_checkpoint(checkpoint, str(path))  # the metadata fields, checked
    checkpoint["path"] = str(path)
    return checkpoint


def read_weights(path: str | Path, flag: str) -> dict:
    """A cnnkit checkpoint, or a bare state dict (an OrderedDict, or one under `state_dict`
    or `model`, DataParallel's `module.` prefix removed) from a .pt/.pth file, or the
    published weights `torchvision:NAME` (downloaded once, then cached)."""
    if hub.is_named(path):
        path = hub.fetch(path, flag)
    path = Path(path)
    if path.is_dir():
        return load_checkpoint(path)
    if not path.is_file():
        raise CnnkitError(f"{flag} {path}: no such file")
    try:
        # torchvision's and timm's training scripts keep their argparse options beside
        # the weights: a Namespace is plain data, so it may be unpickled too.
        with torch.serialization.safe_globals([argparse.Namespace]):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign or damaged files
        raise CnnkitError(
            f"{flag} {path}: not a readable weights file ({load_failure(exc)}); only "
            "tensors and plain values are unpickled"
        ) from None
    if isinstance(data, dict) and data.get("format") == FORMAT:
        return checked(data, path)
    for key in ("state_dict", "model"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
            break
    if not isinstance(data, dict) or not data:
        raise CnnkitError(f"{flag} {path}: holds {type(data).__name__}, not a state dict")
    not_tensors = [k for k, v in data.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise CnnkitError(
            f"{flag} {path}: {not_tensors[0]!r} is not a tensor; expected a state dict "
            "(bare, or under 'state_dict' or 'model')"
        )
    if all(str(k).startswith("module.") for k in data):
        data = {k[len("module.") :]: v for k, v in data.items()}
    return {"state_dict": data, "path": str(path)}


def is_checkpoint(weights: dict) -> bool:
    """Whether `read_weights` found a cnnkit checkpoint (rather than a bare state dict)."""
    return weights.get("format") == FORMAT


def model_from_checkpoint(checkpoint: dict) -> nn.Module:
    """Rebuild the registry model a checkpoint describes and load its weights (eval mode)."""
    from toolkit import models

    model = models.build(checkpoint["model"], **checkpoint["model_args"])
    load_weights(model, checkpoint)
    return model.eval()


def load_weights(model: nn.Module, checkpoint: dict) -> None:
    """Load a checkpoint's state_dict into `model`; a CnnkitError when the tensors do not fit."""
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        detail = lines[1].strip() if len(lines) > 1 else lines[0]  # the first mismatch
        raise CnnkitError(
            f"{checkpoint.get('path', 'checkpoint')}: weights do not fit "
            f"{checkpoint['model']} ({detail[:160]})"
        ) from None


def rng_state() -> dict:
    """Every random generator training touches, as tensors and plain values."""
    import random

    import numpy as np

    _, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    """Put back the generators saved by `rng_state`."""
    import random

    import numpy as np

    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class WeightMatch:
    """What `load_matching_weights` took from a checkpoint."""

    loaded: list[str]
    shape_mismatch: list[str]
    not_found: list[str]


def load_matching_weights(model: nn.Module, state_dict: dict) -> WeightMatch:
    """Copy every tensor whose name (or name without its first part) and shape match.

    The fallback lets an FCN's `backbone.features.0.weight` take a classifier's
    `features.0.weight`.
    """
    own = model.state_dict()
    loaded, mismatch, missing, update = [], [], [], {}
    for name, tensor in own.items():
        source = name if name in state_dict else name.split(".", 1)[-1]
        if source not in state_dict:
            missing.append(name)
        elif state_dict[source].shape != tensor.shape:
            mismatch.append(name)
        else:
            update[name] = state_dict[source]
            loaded.append(name)
    model.load_state_dict(update, strict=False)
    return WeightMatch(loaded, mismatch, missing)
