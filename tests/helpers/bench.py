"""Test helpers for tests/bench/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

CLASSES = [str(d) for d in range(10)]


def export_lenet(model, path: Path) -> None:
    """torch.onnx.export with dynamic batch, height and width.

    The TorchScript exporter takes under a second where dynamo takes several; the fixture
    only needs a real LeNet graph (toolkit.export's own tests cover the dynamo path).
    """
    import torch

    torch.onnx.export(
        model,
        (torch.randn(2, 1, 32, 32),),
        str(path),
        dynamo=False,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}},
    )
