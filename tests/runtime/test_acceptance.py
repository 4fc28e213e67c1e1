"""Acceptance: a model trained and exported by cnnkit labels PNG files written by the test
with exactly the test accuracy training reported (the preprocessing contract holds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.cli import run_cli


def test_trained_exported_model_labels_pngs_with_the_reported_accuracy(tmp_path):
    from toolkit.data import split_arrays
    from toolkit.export import export_onnx
    from toolkit.train import TrainConfig, fit

    config = TrainConfig(
        model="lenet", data="digits", epochs=1, runs_dir=str(tmp_path), name="digits", seed=3
    )
    run_dir = fit(config, quiet=True)
    reported = json.loads((run_dir / "results.json").read_text())["test"]["top1"]
    export_onnx(run_dir, quiet=True)

    # The raw 8x8 digits of the test split: the runtime does the 8 -> 32 resize itself.
    images, targets, classes = split_arrays("digits", "test", (1, 8, 8), config.seed)
    folder = tmp_path / "pngs"
    folder.mkdir()
    truth = {}
    for i, (image, target) in enumerate(zip(images, targets, strict=True)):
        path = folder / f"{i:04d}.png"
        Image.fromarray(image[:, :, 0], "L").save(path)
        truth[str(path)] = classes[int(target)]

    out = tmp_path / "preds"
    result = run_cli("infer", run_dir / "model.onnx", folder, "--out", out, "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(truth) and all(row["status"] == "ok" for row in rows)
    accuracy = np.mean([row["label"] == truth[row["path"]] for row in rows])
    assert reported > 0.3  # it learned something, so agreement is not luck
    assert accuracy == reported, (accuracy, reported)


@pytest.mark.slow
def test_exported_fcn_writes_masks_at_each_images_own_size(tmp_path):
    from toolkit.export import export_onnx

    model = tmp_path / "fcn8s.onnx"
    export_onnx(
        "fcn8s",
        model,
        num_classes=11,
        input_size=(3, 64, 64),
        model_args={"backbone": "resnet18"},
        quiet=True,
    )
    folder = tmp_path / "scenes"
    folder.mkdir()
    sizes = [(64, 64), (100, 50), (33, 47)]
    for i, size in enumerate(sizes):
        pixels = np.random.default_rng(i).integers(0, 256, (size[1], size[0], 3), np.uint8)
        Image.fromarray(pixels).save(folder / f"scene{i}.png")
    out = tmp_path / "preds"
    result = run_cli("infer", model, folder, "--out", out, "--overlay", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for row, (width, height) in zip(rows, sizes, strict=True):
        mask = Image.open(out / row["mask"])
        assert mask.mode == "P" and mask.size == (width, height)
        assert sum(row["class_pixels"].values()) == width * height
        assert len(row["class_pixels"]) == 11
        assert (out / "overlays" / Path(row["mask"]).name).exists()
