"""What to export, resolved to a model + metadata: a run folder, a .pt checkpoint, a zoo name
(optionally with --weights), or any nn.Module (`package.module:factory`)."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.export.options import ModelOverrides
from toolkit.meta import ModelMeta, check_metadata
from toolkit.progress import note
from toolkit.runfolder import RunFolder

ZOO_SEED = 0  # zoo names export freshly initialised weights; seeded so files are repeatable
FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")  # package.module:factory
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass
class ExportSource:
    """A model in eval mode, the cnnkit metadata to embed, and where its file goes by default."""

    model: nn.Module
    meta: ModelMeta
    default_out: Path
    origin: str  # "run" | "checkpoint" | "zoo" | "module"
    run_config: dict = field(default_factory=dict)


def resolve_source(
    source: str | Path, overrides: ModelOverrides | None = None, **keywords
) -> ExportSource:
    """Turn the user's SOURCE into an ExportSource; zoo options on a checkpoint are an error.

    Keywords (num_classes=..., weights=...) apply on top of `overrides`.
    """
    o = (overrides or ModelOverrides()).updated(**keywords)
    num_classes, in_channels, input_size = o.num_classes, o.in_channels, o.input_size
    model_args, mean, std, classes = o.model_args, o.mean, o.std, o.classes
    weights, task = o.weights, o.task
    path = Path(source)
    if not path.exists() and FACTORY.match(str(source)):
        refuse_flags(
            {"--num-classes": num_classes, "--in-channels": in_channels, "--model-arg": model_args},
            "do not apply to a module; its factory decides its architecture",
        )
        meta = {"task": task, "classes": classes, "mean": mean, "std": std, "model": str(source)}
        model = import_factory(str(source))
        if weights:
            load_module_weights(model, weights)
        return from_module(model, input_size, meta)
    if task:
        raise CnnkitError(f"--task applies to package.module:factory sources; {source} has one")
    if path.suffix == ".onnx" and path.is_file():
        raise CnnkitError(
            f"{source}: export makes ONNX from a run folder, checkpoint, zoo name or module; "
            "an .onnx SOURCE takes --embed-preprocess or --format ort"
        )
    if path.is_dir() or path.suffix == ".pt" or path.is_file():
        given = {
            "--num-classes": num_classes,
            "--in-channels": in_channels,
            "--input-size": input_size,
            "--model-arg": model_args,
            "--mean": mean,
            "--std": std,
            "--classes": classes,
            "--weights": weights,
        }
        refuse_flags(
            given,
            f"only apply to zoo names (and modules); {source} is a checkpoint and carries "
            "its own architecture, weights and metadata",
        )
        return from_checkpoint(path)
    check_metadata({"model_args": model_args or {}}, "--model-arg")
    return from_zoo(str(source), o)


def refuse_flags(given: dict, why: str) -> None:
    """A CnnkitError naming the flags that were given but do not apply, and why."""
    flags = [flag for flag, value in given.items() if value]
    if flags:
        raise CnnkitError(f"{', '.join(flags)} {why}")


def from_checkpoint(path: Path) -> ExportSource:
    """Rebuild the trained model of a run folder (best.pt) or a .pt file."""
    from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint

    checkpoint = load_checkpoint(path)
    model = model_from_checkpoint(checkpoint)
    meta = ModelMeta.from_checkpoint(checkpoint, checkpoint["path"])
    run_dir = path if path.is_dir() else Path(checkpoint["path"]).parent
    config_path = RunFolder(run_dir).config
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    origin = "run" if path.is_dir() else "checkpoint"
    return ExportSource(model.eval(), meta, RunFolder(run_dir).onnx, origin, config)


def from_zoo(name: str, overrides: ModelOverrides) -> ExportSource:
    """Build a zoo model with seeded random weights, or --weights; defaults are announced."""
    from toolkit import models

    num_classes, in_channels, input_size = (
        overrides.num_classes,
        overrides.in_channels,
        overrides.input_size,
    )
    model_args, weights = overrides.model_args or {}, overrides.weights
    mean, std, classes = overrides.mean, overrides.std, overrides.classes
    if "/" in name or name.endswith((".pt", ".pth", ".onnx")):
        raise CnnkitError(f"{name}: no such checkpoint or run folder")
    entry = models.info(name)  # CnnkitError with suggestions for unknown names
    if input_size and in_channels and input_size[0] != in_channels:
        raise CnnkitError(
            f"--input-size has {input_size[0]} channels but --in-channels is {in_channels}"
        )
    channels = in_channels or (input_size[0] if input_size else entry.input_size[0])
    kwargs = {**model_args, "in_channels": channels}
    if num_classes is not None:
        kwargs["num_classes"] = num_classes
    torch.manual_seed(ZOO_SEED)
    model = models.build(name, **kwargs).eval()
    size = tuple(input_size) if input_size else models.default_input_size(name, channels)
    models.check_input(model, size)
    stats = (0.5, 0.5)
    origin = f"random weights (seed {ZOO_SEED})"
    if weights:
        origin, foreign = load_zoo_weights(model, weights)
        if foreign and channels == 3:
            stats = (IMAGENET_MEAN, IMAGENET_STD)  # what torchvision's weights were trained on
    k = _num_classes(model, size)
    default_mean, default_std = (list(v) if isinstance(v, tuple) else [v] * channels for v in stats)
    meta = {
        "task": entry.task,
        "classes": classes or [str(i) for i in range(k)],
        "mean": list(mean) if mean else default_mean,
        "std": list(std) if std else default_std,
        "model": name,
        "model_args": kwargs,
        "input_size": list(size),
    }
    _check_meta(meta, channels, k)
    meta = ModelMeta.from_dict(meta, "export")
    defaults = [n for n, v in (("classes", classes), ("mean", mean), ("std", std)) if not v]
    if defaults:
        note(
            f"{name}: {origin}; metadata defaults for {', '.join(defaults)}: classes "
            f"0..{k - 1}, mean {_short(default_mean)}, std {_short(default_std)}"
        )
    return ExportSource(model, meta, Path(f"{name}.onnx"), "zoo")


def _short(values: list[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


def load_zoo_weights(model: nn.Module, weights: str | Path) -> tuple[str, bool]:
    """--weights for a zoo name: a cnnkit checkpoint or torchvision/timm state dict.

    Returns a few words on where the weights came from, and whether they were foreign.
    """
    from toolkit.models.foreign import load_foreign
    from toolkit.train.checkpoint import is_checkpoint, load_matching_weights, read_weights

    found = read_weights(weights, "--weights")
    if is_checkpoint(found):  # a cnnkit checkpoint: every tensor must fit, as in resume
        match = load_matching_weights(model, found["state_dict"])
        if match.shape_mismatch or match.not_found:
            first = (match.shape_mismatch + match.not_found)[0]
            raise CnnkitError(f"--weights {weights}: {first} does not fit {model.cnnkit_name}")
        return f"weights of {found['model']} from {weights}", False
    report = load_foreign(model, found["state_dict"], f"--weights {weights}")
    note(f"--weights {weights}: {report.summary()}")
    return f"weights from {weights}", report.convention != "cnnkit"


def load_module_weights(model: nn.Module, weights: str | Path) -> None:
    """--weights for a module: a state dict under the module's own names, every tensor checked."""
    from toolkit.train.checkpoint import read_weights

    found = read_weights(weights, "--weights")["state_dict"]
    own = model.state_dict()
    missing = [k for k in own if k not in found]
    extra = [k for k in found if k not in own]
    if missing or extra:
        what = f"has no {missing[0]}" if missing else f"has {extra[0]}, which the module lacks"
        counts = f"{len(missing)} missing, {len(extra)} extra"
        raise CnnkitError(f"--weights {weights}: {what} ({counts})")
    for key, value in own.items():
        if tuple(found[key].shape) != tuple(value.shape):
            raise CnnkitError(
                f"--weights {weights}: {key} has shape {list(found[key].shape)}, the module "
                f"needs {list(value.shape)}"
            )
    model.load_state_dict(found)


def import_factory(spec: str) -> nn.Module:
    """`package.module:factory` -> the nn.Module it builds (the current folder is importable)."""
    module_name, _, attr = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as uvicorn does: the user's module beside them
    try:
        target = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may raise anything while importing
        raise CnnkitError(f"{spec}: cannot import {module_name} ({_first_line(exc)})") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise CnnkitError(f"{spec}: {module_name} has no {attr}")
        target = getattr(target, part)
    if not callable(target):
        raise CnnkitError(f"{spec}: {attr} is not a class or function")
    try:
        model = target()
    except Exception as exc:  # a factory that needs arguments, or fails inside
        raise CnnkitError(f"{spec}: calling {attr}() failed ({_first_line(exc)})") from None
    if not isinstance(model, nn.Module):
        raise CnnkitError(f"{spec}: {attr}() returned {type(model).__name__}, not an nn.Module")
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def from_module(
    model: nn.Module, input_size: tuple[int, int, int] | None, meta: dict | None = None
) -> ExportSource:
    """Any nn.Module with the metadata it needs: task, classes, mean, std (defaults announced)."""
    meta = dict(meta or {})
    label = meta.get("model") or type(model).__name__
    size = input_size or getattr(model, "input_size", None)
    if not size or len(size) != 3 or min(size) <= 0:
        raise CnnkitError(f"{label}: give --input-size C,H,W (a module has no default size)")
    size = tuple(int(v) for v in size)
    task = meta.get("task") or "classification"
    if task not in ("classification", "segmentation"):
        raise CnnkitError(f"--task {task}: choose classification or segmentation")
    model = model.eval()
    k = _num_classes(model, size, label)
    channels = size[0]
    full = {
        "task": task,
        "classes": list(meta.get("classes") or [str(i) for i in range(k)]),
        "mean": list(meta.get("mean") or [0.5] * channels),
        "std": list(meta.get("std") or [0.5] * channels),
        "model": label,
        "model_args": dict(meta.get("model_args") or {}),
        "input_size": list(size),
    }
    _check_meta(full, channels, k)
    defaults = [n for n in ("classes", "mean", "std") if not meta.get(n)]
    if defaults:
        note(
            f"{label}: metadata defaults for {', '.join(defaults)}: classes 0..{k - 1}, "
            "mean 0.5, std 0.5 per channel"
        )
    out = Path(label.replace(":", "_").rsplit(".", 1)[-1] + ".onnx")
    return ExportSource(model, ModelMeta.from_dict(full, "export"), out, "module")


def _num_classes(model: nn.Module, size: tuple[int, int, int], label: str = "") -> int:
    """Number of output classes, from one forward pass (which also proves the size works)."""
    label = label or getattr(model, "cnnkit_name", type(model).__name__)
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *size))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise CnnkitError(
            f"{label} cannot run on input {'x'.join(map(str, size))}: {first}"
        ) from None
    if not isinstance(out, torch.Tensor) or out.dim() < 2:
        what = type(out).__name__ if not isinstance(out, torch.Tensor) else list(out.shape)
        raise CnnkitError(f"{label}: output is {what}; expected logits [N, K] or [N, K, H, W]")
    return int(out.shape[1])


def _check_meta(meta: dict, channels: int, k: int) -> None:
    """mean/std need one value per channel, classes one name per output (before the types)."""
    for key in ("mean", "std"):
        if len(meta[key]) != channels:
            raise CnnkitError(
                f"--{key} has {len(meta[key])} values, the model has {channels} channels"
            )
    if any(s <= 0 for s in meta["std"]):
        raise CnnkitError("--std values must be positive")
    if len(meta["classes"]) != k:
        raise CnnkitError(f"--classes has {len(meta['classes'])} names, the model has {k} outputs")
