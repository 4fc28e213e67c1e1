"""Shared bench fixtures: a real LeNet run folder (checkpoint + ONNX + int8) and foreign
ONNX files, built once per session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.bench import CLASSES, export_lenet


@pytest.fixture(scope="session")
def lenet(tmp_path_factory) -> dict[str, Path]:
    """Paths: run (folder), onnx (with metadata), int8, checkpoint, foreign, fixed, images."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from toolkit import models
    from toolkit.meta import ModelMeta
    from toolkit.onnxfile import write_metadata
    from toolkit.train.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("bench")
    run = root / "runs" / "lenet"
    run.mkdir(parents=True)
    torch.manual_seed(0)
    model = models.build("lenet").eval()
    meta = {
        "task": "classification",
        "classes": CLASSES,
        "input_size": [1, 32, 32],
        "mean": [0.5],
        "std": [0.25],
        "model": "lenet",
        "model_args": {},
    }
    save_checkpoint({**meta, "state_dict": model.state_dict()}, run / "best.pt")
    (run / "config.json").write_text(json.dumps({"model": "lenet"}))
    raw = root / "raw.onnx"
    export_lenet(model, raw)
    proto = onnx.load(str(raw))
    write_metadata(proto, ModelMeta.from_dict(meta))
    onnx.save(proto, str(run / "model.onnx"))
    quantize_dynamic(
        str(run / "model.onnx"), str(run / "model.int8.onnx"), weight_type=QuantType.QInt8
    )
    foreign = onnx.load(str(raw))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(root / "foreign.onnx"))
    foreign.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1  # fixed batch of 1
    onnx.save(foreign, str(root / "fixed.onnx"))
    images = root / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        pixels = rng.integers(0, 256, (28 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels, "RGB").save(images / f"img{i}.png")
    (root / "not_onnx.onnx").write_text("this is not a model\n")
    return {
        "root": root,
        "run": run,
        "onnx": run / "model.onnx",
        "int8": run / "model.int8.onnx",
        "checkpoint": run / "best.pt",
        "foreign": root / "foreign.onnx",
        "fixed": root / "fixed.onnx",
        "images": images,
        "not_onnx": root / "not_onnx.onnx",
    }
