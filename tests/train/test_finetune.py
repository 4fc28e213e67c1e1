"""Fine-tuning: --init-from torchvision weights, --freeze, --backbone-lr-scale, the header line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from tests.helpers.cli import invoke
from tests.helpers.data import write_cvat
from tests.helpers.weights import torchvision_dict, trainable_dict
from toolkit import models
from toolkit.cli import cli
from toolkit.data.dataset import default_augment
from toolkit.train import TrainConfig
from toolkit.train.checkpoint import read_weights
from toolkit.train.finetune import apply_freeze, frozen_names, train_mode
from toolkit.train.optim import build_optimizer


def test_freeze_backbone_and_features_differ_for_vgg_only():
    with torch.device("meta"):
        resnet, vgg = models.build("resnet18"), models.build("vgg11")
    assert frozen_names(resnet, "backbone") == frozen_names(resnet, "features")
    assert all(not n.startswith("fc.") for n in frozen_names(resnet, "backbone"))
    vgg_backbone, vgg_features = frozen_names(vgg, "backbone"), frozen_names(vgg, "features")
    assert "classifier.0.weight" in vgg_backbone and "classifier.0.weight" not in vgg_features
    assert "classifier.6.weight" not in vgg_backbone
    assert frozen_names(vgg, "none") == []


def test_frozen_batchnorm_keeps_its_statistics():
    model = models.build("resnet18", num_classes=3)
    apply_freeze(model, "backbone")
    train_mode(model, model)
    assert not model.stem[0][1].training and model.fc.training
    before = model.stem[0][1].running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.stem[0][1].running_mean, before)


def test_backbone_lr_scale_slows_every_layer_but_the_head():
    model = models.build("lenet5")
    config = TrainConfig(lr=0.1, weight_decay=0.01, backbone_lr_scale=0.1)
    optimizer = build_optimizer(model, config)
    head = {id(p) for p in model.head[3].parameters()}
    for group in optimizer.param_groups:
        expected = 0.1 if all(id(p) in head for p in group["params"]) else 0.1 * 0.1
        assert group["lr"] == pytest.approx(expected) or not group["params"]
    counted = sum(len(g["params"]) for g in optimizer.param_groups)
    assert counted == len(list(model.parameters()))


def test_symbol_like_folders_are_not_flipped_by_default():
    assert not default_augment("folder:x", (3, 32, 32), ["0", "1", "7"]).hflip
    assert default_augment("folder:x", (3, 32, 32), ["cat", "dog"]).hflip
    assert not default_augment("digits", (1, 8, 8)).hflip


def write_digit_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(["3", "7"]):
        (root / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 60, (16, 16, 3)) + 150 * k
            Image.fromarray(pixels.astype(np.uint8), "RGB").save(root / name / f"{i}.png")
    return root


def test_train_from_torchvision_weights_with_a_frozen_backbone(tmp_path):
    source = trainable_dict("resnet18")
    torch.save(source, tmp_path / "resnet18-f37072fd.pth")
    write_digit_folder(tmp_path / "digits")
    result = invoke(
        "train", "resnet18", "--data", "folder:digits", "--input-size", "3,32,32",
        "--epochs", "1", "--init-from", "resnet18-f37072fd.pth", "--freeze", "backbone",
        "--backbone-lr-scale", "0.1", "--runs-dir", "runs", "--name", "tuned",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "head fc.weight, fc.bias reinitialised (the file has 1000 classes)" in result.stderr
    header = next(line for line in result.stderr.splitlines() if line.startswith("train "))
    assert "no hflip" in header and "class names are symbols" in header
    assert "freeze backbone (60/62 tensors)" in header and "backbone lr x0.1" in header
    config = json.loads((tmp_path / "runs" / "tuned" / "config.json").read_text())
    assert config["init_report"]["loaded"] == 120 and config["freeze"] == "backbone"
    tuned = torch.load(tmp_path / "runs" / "tuned" / "last.pt", weights_only=True)["state_dict"]
    assert torch.equal(tuned["layer3.1.conv2.0.weight"], source["layer3.1.conv2.weight"])
    assert torch.equal(tuned["layer3.1.conv2.1.running_mean"], source["layer3.1.bn2.running_mean"])


def test_a_misfit_file_is_one_line(tmp_path):
    source = torchvision_dict("resnet18")
    source["layer2.0.bn1.weight"] = torch.zeros(7)
    torch.save({"state_dict": source}, tmp_path / "bad.pth")
    write_digit_folder(tmp_path / "digits")
    bad = tmp_path / "bad.pth"
    result = CliRunner().invoke(
        cli,
        ["train", "resnet18", "--data", f"folder:{tmp_path / 'digits'}", "--input-size",
         "3,32,32", "--init-from", str(bad), "--runs-dir", str(tmp_path / "runs")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --init-from {bad}: layer2.0.bn1.weight has shape [7], cnnkit's "
        "layer2.0.conv1.1.weight needs [128]"
    )
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_three_class_labelmap_trains_a_three_way_head(tmp_path):
    write_cvat(tmp_path / "cvat", count=10)
    result = invoke(
        "train", "fcn32s", "--data", "voc:cvat", "--model-arg", "backbone=resnet18",
        "--input-size", "3,32,32", "--epochs", "1", "--batch-size", "4",
        "--runs-dir", "runs", "--name", "seg", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    checkpoint = torch.load(tmp_path / "runs" / "seg" / "best.pt", weights_only=True)
    assert checkpoint["classes"] == ["background", "crack", "rust"]
    assert checkpoint["state_dict"]["score.c5.weight"].shape[0] == 3
    metrics = json.loads((tmp_path / "runs" / "seg" / "results.json").read_text())["test"]
    assert list(metrics["iou"]) == ["background", "crack", "rust"]


def test_training_script_checkpoints_with_their_options_are_read(tmp_path):
    """torchvision's reference scripts save {"model", "optimizer", "args": Namespace}."""
    source = {"conv.weight": torch.ones(2, 1, 1, 1)}
    saved = {"model": source, "optimizer": {}, "epoch": 3, "args": argparse.Namespace(lr=0.1)}
    torch.save(saved, tmp_path / "checkpoint.pth")
    weights = read_weights(tmp_path / "checkpoint.pth", "--init-from")
    assert torch.equal(weights["state_dict"]["conv.weight"], source["conv.weight"])
    torch.save({"module.conv.weight": torch.ones(1)}, tmp_path / "ddp.pth")
    assert list(read_weights(tmp_path / "ddp.pth", "--init-from")["state_dict"]) == ["conv.weight"]
