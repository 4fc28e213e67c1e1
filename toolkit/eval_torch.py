"""The torch side of `cnnkit eval`: run folders and checkpoints in eager mode, beside ONNX files.

Outside toolkit.evaluate on purpose: that package never imports torch (the runtime extra
scores .onnx files), so checkpoints are opened here, above toolkit.train, and handed to
`evaluate` as sides. Images are normalised exactly as training's evaluation does it
(toolkit.data.transforms), so a checkpoint scores what `train` reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.evaluate import EvalData, EvalOptions, EvalReport, evaluate
from toolkit.evaluate.sides import ModelSide, is_onnx, open_onnx_side
from toolkit.extras import require_extra


class TorchSide:
    """A checkpoint's model on torch, in eval mode."""

    def __init__(self, source: str | Path, device: str = "auto"):
        from toolkit.meta import ModelMeta
        from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint

        checkpoint = load_checkpoint(source)
        self.meta = ModelMeta.from_checkpoint(checkpoint, checkpoint["path"])
        self.device = torch_device(device)
        self.model = model_from_checkpoint(checkpoint).eval().to(self.device)
        self.name = str(source)
        self.provider = f"torch-{self.device.type}"
        self.precision = "fp32"
        self.task = self.meta.task
        self.classes = list(self.meta.classes)
        self.input_size = tuple(self.meta.input_size)

    def scores(self, images: np.ndarray) -> np.ndarray:
        """Logits for uint8 images (N, H, W, C), normalised as training evaluates."""
        import torch

        from toolkit.data.transforms import normalize, to_float

        batch = torch.from_numpy(np.array(images.transpose(0, 3, 1, 2)))  # a writable copy
        x = normalize(to_float(batch), self.meta.mean, self.meta.std).to(self.device)
        with torch.inference_mode():
            return self.model(x).float().cpu().numpy()


def torch_device(device: str):
    """--device for the torch side: auto (CUDA when torch has it), cpu, cuda or cuda:N."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" or (device.startswith("cuda") and torch.cuda.is_available()):
        return torch.device(device)
    raise CnnkitError(f"--device {device}: torch cannot use it here (try cpu)")


def evaluate_models(
    models: Sequence[str | Path], data: EvalData, options: EvalOptions | None = None
) -> EvalReport:
    """`evaluate` over ONNX files, run folders and checkpoints (these run on torch)."""
    options = options or EvalOptions()
    sides: list[ModelSide] = []
    for model in models:
        if is_onnx(model):
            sides.append(open_onnx_side(model, options.predictor, options.quiet))
        elif Path(model).exists():
            require_extra("train", f"{model}: a checkpoint")
            sides.append(TorchSide(model, options.predictor.session.device))
        else:
            raise CnnkitError(f"{model}: no such file or run folder")
    return evaluate(sides, data, options)
