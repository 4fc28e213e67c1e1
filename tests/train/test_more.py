"""torchrun DDP, NaN stops, --init-from, folder data and segmentation, end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from tests.helpers.cli import ROOT
from tests.helpers.data import write_class_folder
from toolkit import models
from toolkit.train import TrainConfig, TrainingDiverged, fit
from toolkit.train.checkpoint import load_checkpoint


class NaNAfter(nn.Module):
    """LeNet whose training forward turns NaN after a number of batches (a real divergence)."""

    def __init__(self, *, num_classes: int = 10, in_channels: int = 1, activation: str = "relu"):
        super().__init__()
        self.net = models.build("lenet", num_classes=num_classes, in_channels=in_channels)
        self.healthy_batches = 2

    def forward(self, x):
        out = self.net(x)
        if self.training:
            self.healthy_batches -= 1
            if self.healthy_batches < 0:
                return out * float("nan")
        return out


@pytest.fixture
def nan_model():
    """Register the diverging model for one test only, so the zoo stays as shipped."""
    with models.registered(
        "nan-after-test",
        NaNAfter,
        task="classification",
        input_size=(1, 32, 32),
        description="test only",
    ) as name:
        yield name


def test_torchrun_two_processes_train_one_run_folder(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "toolkit.cli",
            "train",
            "lenet",
            "--data",
            "digits",
            "--epochs",
            "1",
            "--limit",
            "256",
            "--runs-dir",
            str(tmp_path),
            "--name",
            "ddp",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[:4000]
    run_dir = tmp_path / "ddp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["world_size"] == 2
    rows = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 1
    val = json.loads(rows[0])["val"]
    assert sum(map(sum, val["confusion"])) == 256  # each sample counted once over both ranks
    results = json.loads((run_dir / "results.json").read_text())
    assert 0 <= results["test"]["top1"] <= 1
    assert load_checkpoint(run_dir, prefer="last.pt")["epoch"] == 1


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, nan_model):
    config = TrainConfig(
        model=nan_model,
        data="digits",
        epochs=3,
        limit=128,
        runs_dir=str(tmp_path),
        name="nan",
        threads=1,
    )
    with pytest.raises(TrainingDiverged, match="epoch 2, step 1") as error:
        fit(config, quiet=True)
    assert "last.pt (epoch 1)" in str(error.value)
    assert load_checkpoint(tmp_path / "nan", prefer="last.pt")["epoch"] == 1
    assert (tmp_path / "nan" / "curves.png").is_file()


def test_init_from_reports_what_it_loaded(digits_run, tmp_path, capfd):
    source, _ = digits_run
    run_dir = fit(
        TrainConfig(
            model="lenet",
            data="digits",
            epochs=1,
            limit=64,
            threads=1,
            runs_dir=str(tmp_path),
            init_from=str(source),
        ),
        quiet=True,
    )
    report = json.loads((run_dir / "config.json").read_text())["init_report"]
    assert report["loaded"] == 10 and report["not_found"] == []
    assert "loaded 10/10 tensors from lenet5" in capfd.readouterr().err


def test_folder_data_trains_end_to_end(tmp_path, capfd):
    root = write_class_folder(tmp_path / "pets", per_class=20)
    run_dir = fit(
        TrainConfig(
            model="lenet",
            data=f"folder:{root}",
            epochs=2,
            batch_size=8,
            runs_dir=str(tmp_path / "runs"),
            threads=1,
        ),
        quiet=True,
    )
    config = json.loads((run_dir / "config.json").read_text())
    assert config["classes"] == ["cat", "dog"] and config["input_size"] == [3, 32, 32]
    assert config["hflip"] is None and run_dir.name == "lenet-pets"
    assert json.loads((run_dir / "results.json").read_text())["test"]["top1"] >= 0.5
    assert "broken.png" in capfd.readouterr().err


def test_segmentation_run_reports_iou_and_dead_relu(tmp_path):
    run_dir = fit(
        TrainConfig(
            model="fcn32s",
            data="digit-scenes",
            epochs=1,
            limit=48,
            input_size=(1, 32, 32),
            model_args={"backbone": "resnet18"},
            runs_dir=str(tmp_path),
            threads=1,
        ),
        quiet=True,
    )
    row = json.loads((run_dir / "metrics.jsonl").read_text())
    assert 0 <= row["val"]["miou"] <= 1 and len(row["val"]["iou"]) == 11
    assert 0 <= row["diagnostics"]["dead_relu"]["fraction"] <= 1
    checkpoint = load_checkpoint(run_dir)
    assert checkpoint["task"] == "segmentation" and checkpoint["classes"][0] == "background"
    model = models.build("fcn32s", **checkpoint["model_args"])
    model.load_state_dict(checkpoint["state_dict"])
    assert model.eval()(torch.zeros(1, 1, 32, 32)).shape == (1, 11, 32, 32)
