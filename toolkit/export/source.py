"""What to export: a run folder, a .pt checkpoint or a zoo name, resolved to a model + metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from toolkit.errors import CnnkitError
from toolkit.onnxfile import check_metadata
from toolkit.progress import note

ZOO_SEED = 0  # zoo names export freshly initialised weights; seeded so files are repeatable


@dataclass
class ExportSource:
    """A model in eval mode, the cnnkit metadata to embed, and where its file goes by default."""

    model: nn.Module
    meta: dict
    default_out: Path
    origin: str  # "run" | "checkpoint" | "zoo"
    run_config: dict = field(default_factory=dict)


def resolve_source(
    source: str | Path,
    *,
    num_classes: int | None = None,
    in_channels: int | None = None,
    input_size: tuple[int, int, int] | None = None,
    model_args: dict | None = None,
    mean: list[float] | None = None,
    std: list[float] | None = None,
    classes: list[str] | None = None,
) -> ExportSource:
    """Turn the user's SOURCE into an ExportSource; zoo options on a checkpoint are an error."""
    path = Path(source)
    if path.is_dir() or path.suffix == ".pt" or path.is_file():
        given = {
            "--num-classes": num_classes,
            "--in-channels": in_channels,
            "--input-size": input_size,
            "--model-arg": model_args,
            "--mean": mean,
            "--std": std,
            "--classes": classes,
        }
        flags = [flag for flag, value in given.items() if value]
        if flags:
            raise CnnkitError(
                f"{', '.join(flags)} only apply to zoo names; {source} is a checkpoint "
                "and carries its own architecture and metadata"
            )
        return from_checkpoint(path)
    check_metadata({"model_args": model_args or {}}, "--model-arg")
    return from_zoo(
        str(source), num_classes, in_channels, input_size, model_args or {}, mean, std, classes
    )


def from_checkpoint(path: Path) -> ExportSource:
    """Rebuild the trained model of a run folder (best.pt) or a .pt file."""
    from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint

    checkpoint = load_checkpoint(path)
    model = model_from_checkpoint(checkpoint)
    meta = {key: checkpoint[key] for key in ("task", "classes", "mean", "std", "model")}
    meta["input_size"] = list(checkpoint["input_size"])
    meta["model_args"] = dict(checkpoint["model_args"])
    run_dir = path if path.is_dir() else Path(checkpoint["path"]).parent
    config_path = run_dir / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    origin = "run" if path.is_dir() else "checkpoint"
    return ExportSource(model.eval(), meta, run_dir / "model.onnx", origin, config)


def from_zoo(
    name: str,
    num_classes: int | None,
    in_channels: int | None,
    input_size: tuple[int, int, int] | None,
    model_args: dict,
    mean: list[float] | None,
    std: list[float] | None,
    classes: list[str] | None,
) -> ExportSource:
    """Build a zoo model with seeded random weights; metadata defaults are announced."""
    from toolkit import models

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
    if hasattr(models, "check_input"):
        models.check_input(model, size)
    k = _num_classes(model, size)
    meta = {
        "task": entry.task,
        "classes": classes or [str(i) for i in range(k)],
        "mean": mean or [0.5] * channels,
        "std": std or [0.5] * channels,
        "model": name,
        "model_args": kwargs,
        "input_size": list(size),
    }
    _check_meta(meta, channels, k)
    defaults = [n for n, v in (("classes", classes), ("mean", mean), ("std", std)) if not v]
    if defaults:
        note(
            f"{name}: random weights (seed {ZOO_SEED}); metadata defaults for "
            f"{', '.join(defaults)}: classes 0..{k - 1}, mean 0.5, std 0.5 per channel"
        )
    return ExportSource(model, meta, Path(f"{name}.onnx"), "zoo")


def _num_classes(model: nn.Module, size: tuple[int, int, int]) -> int:
    """Number of output classes, from one forward pass (which also proves the size works)."""
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *size))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise CnnkitError(
            f"{model.cnnkit_name} cannot run on input {'x'.join(map(str, size))}: {first}"
        ) from None
    return int(out.shape[1])


def _check_meta(meta: dict, channels: int, k: int) -> None:
    """mean/std need one value per channel, classes one name per output."""
    for key in ("mean", "std"):
        if len(meta[key]) != channels:
            raise CnnkitError(
                f"--{key} has {len(meta[key])} values, the model has {channels} channels"
            )
    if any(s <= 0 for s in meta["std"]):
        raise CnnkitError("--std values must be positive")
    if len(meta["classes"]) != k:
        raise CnnkitError(f"--classes has {len(meta['classes'])} names, the model has {k} outputs")
