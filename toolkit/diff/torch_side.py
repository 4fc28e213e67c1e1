"""The torch side of a diff: a run folder or checkpoint in eager mode, block outputs by hooks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from toolkit.diff.sides import SideSpec
from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta

OUTPUT = "logits"  # the name export gives the model's output
BLOCK_DEPTH = 2  # module paths with at most this many parts: "layer1", "layer1.0"


@dataclass
class TorchSide:
    """A cnnkit model on torch (CPU, eval mode) whose blocks report their outputs."""

    spec: SideSpec
    model: nn.Module
    meta: ModelMeta
    layers: bool = False
    quantized: bool = False
    captured: dict = field(default_factory=dict)
    calls: dict = field(default_factory=dict)

    @classmethod
    def open(cls, spec: SideSpec, layers: bool = False) -> TorchSide:
        """Rebuild the checkpoint's model; hook every block when `layers`."""
        from toolkit.export.convert import exportable_copy
        from toolkit.export.source import resolve_source

        if spec.device not in ("cpu", "auto"):
            raise CnnkitError(f"--device {spec.device}: the torch side of a diff runs on cpu")
        source = resolve_source(spec.source)
        side = cls(spec, exportable_copy(source.model), source.meta, layers)
        if layers:
            for path, module in side.model.named_modules():
                if path and path.count(".") < BLOCK_DEPTH:
                    module.register_forward_hook(side._hook(path))
        return side

    @property
    def label(self) -> str:
        """How tables name this side."""
        return f"{self.spec.source} (torch eager cpu)"

    def _hook(self, path: str):
        def record(_module, _inputs, output):
            self.calls[path] = self.calls.get(path, 0) + 1
            if isinstance(output, torch.Tensor):
                # a copy: an in-place ReLU after this block would rewrite a shared tensor
                self.captured[path] = output.detach().numpy().copy()

        return record

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The model's output for one batch."""
        self.captured, self.calls = {}, {}
        with torch.no_grad():
            out = self.model(torch.from_numpy(np.ascontiguousarray(x)))
        return {OUTPUT: out.numpy()}

    def run_layers(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """{module path: output} of the last `run`, for blocks that ran exactly once."""
        if not self.captured:
            self.run(x)
        return {path: v for path, v in self.captured.items() if self.calls.get(path) == 1}

    def graph_order(self) -> list[tuple[str, str]]:
        """(module path, class name) of the hooked blocks in definition order."""
        return [
            (path, type(module).__name__)
            for path, module in self.model.named_modules()
            if path and path.count(".") < BLOCK_DEPTH
        ]

    def close(self) -> None:
        """Nothing to release."""
