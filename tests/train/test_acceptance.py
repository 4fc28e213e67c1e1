"""The acceptance recipes (slow): LeNet-5 and LeNet >= 98% on digits, FCN-8s mIoU >= 0.70."""

from __future__ import annotations

import json

import pytest

from toolkit.train import TrainConfig, fit


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lenet5", "lenet"])
def test_lenets_reach_98_percent_on_digits(model, tmp_path):
    run_dir = fit(
        TrainConfig(model=model, data="digits", epochs=30, runs_dir=str(tmp_path)), quiet=True
    )
    results = json.loads((run_dir / "results.json").read_text())
    assert results["test"]["top1"] >= 0.98, results["test"]["top1"]


@pytest.mark.slow
def test_fcn8s_reaches_miou_070_on_digit_scenes(tmp_path):
    config = TrainConfig(
        model="fcn8s",
        data="digit-scenes",
        epochs=6,
        batch_size=32,
        model_args={"backbone": "resnet18"},
        runs_dir=str(tmp_path),
    )
    results = json.loads((fit(config, quiet=True) / "results.json").read_text())
    assert results["test"]["miou"] >= 0.70, results["test"]["miou"]
