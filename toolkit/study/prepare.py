"""The models the study measures: a zoo model with seeded random weights as a checkpoint,
and exports of checkpoints or run folders (toolkit.export, torch, imported lazily)."""

from __future__ import annotations

from pathlib import Path

from toolkit.runfolder import RunFolder


def random_checkpoint(name: str, size: tuple[int, int, int], folder: Path) -> Path:
    """A checkpoint of a zoo model with seeded random weights (1000 classes, ImageNet stats)."""
    import torch

    from toolkit import models
    from toolkit.meta import ModelMeta
    from toolkit.runtime.preprocess import IMAGENET_MEAN, IMAGENET_STD
    from toolkit.train.checkpoint import new_checkpoint, save_checkpoint

    torch.manual_seed(0)
    model = models.build(name, num_classes=1000, in_channels=size[0])
    folder.mkdir(parents=True, exist_ok=True)
    meta = ModelMeta.from_dict(
        {
            "model": name,
            "model_args": {"num_classes": 1000, "in_channels": size[0]},
            "task": "classification",
            "classes": [str(i) for i in range(1000)],
            "input_size": list(size),
            "mean": list(IMAGENET_MEAN[: size[0]]),
            "std": list(IMAGENET_STD[: size[0]]),
        }
    )
    checkpoint = new_checkpoint(meta, model.state_dict())
    return save_checkpoint(checkpoint, RunFolder(folder).best)


def export(source: Path, out: Path, parity: bool = True) -> Path:
    """toolkit.export of a run folder or checkpoint to `out`."""
    from toolkit.export import export_onnx

    return export_onnx(source, out=out, parity=parity, quiet=True).path
