"""Before the loop: the input size, a new or resumed run folder, and --init-from weights."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from torch import nn

from toolkit import models
from toolkit.data import Source
from toolkit.errors import CnnkitError
from toolkit.models.foreign import load_foreign
from toolkit.progress import note
from toolkit.runfolder import RunFolder
from toolkit.train.checkpoint import (
    is_checkpoint,
    load_checkpoint,
    load_matching_weights,
    read_weights,
)
from toolkit.train.config import TrainConfig, check, resolve
from toolkit.train.rundir import read_json


def input_size_for(config: TrainConfig, source: Source) -> tuple[int, int, int]:
    """--input-size, else the data's channels at its natural size or the model's default."""
    if config.input_size:
        size = tuple(int(v) for v in config.input_size)
        if len(size) != 3 or size[0] not in (1, 3) or min(size) <= 0:
            raise CnnkitError(f"--input-size {size}: give C,H,W with C = 1 or 3")
        return size
    _, h, w = models.default_input_size(config.model)
    return (source.channels, *(source.natural_size or (h, w)))


def check_task(model: str, source: Source) -> str:
    """The model's task; a CnnkitError when the data is for the other task."""
    task = models.info(model).task
    if task != source.task:
        raise CnnkitError(
            f"model {model} is for {task} but --data {source.text} is {source.task} data"
        )
    return task


def new_run(config: TrainConfig, source: Source) -> TrainConfig:
    """Resolve every default of a fresh run."""
    task = check_task(config.model, source)
    return resolve(config, task, input_size_for(config, source))


def resumed_run(config: TrainConfig) -> tuple[TrainConfig, Path, dict]:
    """The saved config (epochs, device, workers from this call) and last.pt of a run folder."""
    run_dir = Path(config.resume)
    if not run_dir.is_dir():
        raise CnnkitError(f"--resume {run_dir}: no such run folder")
    saved = TrainConfig.from_dict(read_json(RunFolder(run_dir).config))
    if not RunFolder(run_dir).last.is_file():
        raise CnnkitError(f"--resume {run_dir}: no last.pt (the run ended before its first epoch)")
    checkpoint = load_checkpoint(run_dir, prefer=RunFolder.LAST)
    if checkpoint["model"] != saved.model:
        raise CnnkitError(f"{checkpoint['path']}: holds {checkpoint['model']}, not {saved.model}")
    done = checkpoint.get("epoch")
    if isinstance(done, bool) or not isinstance(done, int) or done < 0:
        raise CnnkitError(f"{checkpoint['path']}: epoch {done!r} is not a count of epochs")
    if config.epochs and config.epochs != saved.epochs:
        note(
            f"--epochs {config.epochs}: the run was planned for {saved.epochs}; its "
            f"{saved.schedule} schedule is recomputed for {config.epochs}"
        )
    merged = replace(
        saved,
        epochs=config.epochs or saved.epochs,
        device=config.device,
        workers=config.workers,
        threads=config.threads,
        resume=str(run_dir),
        init_from=None,
    )
    check(merged)
    return merged, run_dir, checkpoint


def init_from(model: nn.Module, source: str) -> dict:
    """Load a checkpoint's matching tensors, or torchvision/timm weights, into `model`."""
    weights = read_weights(source, "--init-from")
    if not is_checkpoint(weights):
        loaded = load_foreign(model, weights["state_dict"], f"--init-from {source}")
        note(f"--init-from {source}: {loaded.summary()}")
        return {"weights": weights["path"], **asdict(loaded)}
    checkpoint = weights
    match = load_matching_weights(model, checkpoint["state_dict"])
    total = len(match.loaded) + len(match.shape_mismatch) + len(match.not_found)
    if not match.loaded:
        raise CnnkitError(
            f"--init-from {source}: no tensor of {checkpoint['model']} fits this model"
        )
    note(
        f"--init-from {source}: loaded {len(match.loaded)}/{total} tensors from "
        f"{checkpoint['model']}; skipped {len(match.shape_mismatch)} of another shape"
        + (f" ({', '.join(match.shape_mismatch[:3])})" if match.shape_mismatch else "")
        + f", {len(match.not_found)} not in the checkpoint"
        + (f" ({', '.join(match.not_found[:3])})" if match.not_found else "")
    )
    return {
        "checkpoint": checkpoint["path"],
        "loaded": len(match.loaded),
        "shape_mismatch": match.shape_mismatch,
        "not_found": match.not_found,
    }
