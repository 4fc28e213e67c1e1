"""Metrics, diagnostics, schedules and weight matching on small real tensors and modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from toolkit.commands.common import parse_model_args
from toolkit.errors import CnnkitError
from toolkit.train.checkpoint import (
    load_checkpoint,
    load_matching_weights,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from toolkit.train.config import TrainConfig
from toolkit.train.curves import best_epoch
from toolkit.train.diagnostics import GradStats, warnings_for, watch_dead_units
from toolkit.train.metrics import Meter
from toolkit.train.optim import LRFactor


def test_classification_meter_counts_top1_top5_and_confusion():
    meter = Meter(6, "classification", torch.device("cpu"))
    logits = torch.eye(6)[[0, 1, 2, 3]] * 5  # predicts 0, 1, 2, 3
    targets = torch.tensor([0, 1, 2, 4])
    meter.update(logits, targets, torch.tensor(0.5))
    summary = meter.summary([str(i) for i in range(6)])
    assert summary["top1"] == 0.75 and summary["loss"] == 0.5
    assert summary["top5"] == 1.0  # class 4 is among the five ties behind 3
    assert summary["confusion"][4][3] == 1


def test_segmentation_meter_ignores_255_and_skips_absent_classes():
    meter = Meter(3, "segmentation", torch.device("cpu"))
    targets = torch.tensor([[[0, 1], [1, 255]]])
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 0, 0, 0] = logits[0, 1, 0, 1] = logits[0, 0, 1, 0] = logits[0, 2, 1, 1] = 1
    meter.update(logits, targets, torch.tensor(1.0))
    summary = meter.summary(["bg", "a", "b"])
    assert summary["pixel_acc"] == pytest.approx(2 / 3)
    assert summary["iou"] == {"bg": 0.5, "a": 0.5, "b": None}
    assert summary["miou"] == pytest.approx(0.5)


def test_dead_units_are_found_per_call_site():
    relu = nn.ReLU()
    dead_layer = nn.Linear(4, 3)
    nn.init.constant_(dead_layer.bias, -100.0)
    model = nn.Sequential(nn.Linear(4, 4), relu, dead_layer, relu)
    with watch_dead_units(model) as dead:
        model(torch.randn(16, 4))
    summary = dead.summary()
    assert summary["units"] == 7  # 4 + 3: one module, two call sites
    assert summary["worst"][0] == {"layer": "1#1", "dead": 3}
    assert summary["fraction"] >= 3 / 7


def test_grad_stats_flag_vanishing_and_exploding_layers():
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    stats = GradStats(model)
    loss = model(torch.randn(5, 3)).sum() * 1e6
    loss.backward()
    model[0].weight.grad.zero_()
    model[0].bias.grad.zero_()
    stats.update()
    summary = stats.summary()
    assert summary["vanishing"] == ["0"] and summary["exploding"] == ["1"]
    assert summary["min"]["layer"] == "0" and summary["max"]["layer"] == "1"
    assert len(warnings_for(summary)) == 2


def test_schedules_warm_up_and_decay():
    cosine = LRFactor(TrainConfig(epochs=10, warmup_epochs=1, schedule="cosine"), 10)
    assert cosine(0) == pytest.approx(0.1) and cosine(9) == pytest.approx(1.0)
    assert cosine(99) < 0.01
    step = LRFactor(TrainConfig(epochs=9, step_size=3, schedule="step"), 10)
    assert step(29) == 1.0 and step(30) == pytest.approx(0.1) and step(60) == pytest.approx(0.01)
    onecycle = LRFactor(TrainConfig(epochs=10, schedule="onecycle"), 10)
    assert onecycle(0) < 0.1 and onecycle(29) == pytest.approx(1.0) and onecycle(99) < 0.01


def test_rng_state_survives_a_weights_only_checkpoint(tmp_path):
    state = rng_state()
    first = torch.rand(3)
    save_checkpoint(
        {
            "model": "x",
            "model_args": {},
            "task": "classification",
            "classes": [],
            "input_size": [1, 2, 2],
            "mean": [0],
            "std": [1],
            "state_dict": {},
            "rng": state,
        },
        tmp_path / "c.pt",
    )
    restore_rng(load_checkpoint(tmp_path / "c.pt")["rng"])
    assert torch.equal(torch.rand(3), first)


def test_matching_weights_fall_back_to_the_name_without_its_first_part():
    source = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 8, 3)).state_dict()
    target = nn.Module()
    target.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 2, 3))
    wrapped = nn.Module()
    wrapped.backbone = target
    match = load_matching_weights(wrapped, {f"features.{k}": v for k, v in source.items()})
    assert match.loaded == ["backbone.features.0.weight", "backbone.features.0.bias"]
    assert len(match.shape_mismatch) == 2 and match.not_found == []
    assert torch.equal(wrapped.backbone.features[0].weight, source["0.weight"])


def test_model_args_parse_json_values_and_strings():
    assert parse_model_args(["backbone=resnet18", "dilation=8", "x=null"]) == {
        "backbone": "resnet18",
        "dilation": 8,
        "x": None,
    }
    with pytest.raises(CnnkitError, match="key=value"):
        parse_model_args(["oops"])


def test_googlenet_aux_heads_weigh_in_only_as_a_tuple():
    from toolkit.train.loop import compute_loss

    targets = torch.tensor([0, 1])
    main, aux = torch.randn(2, 3), torch.randn(2, 3)
    config = TrainConfig(aux_weight=0.3)
    alone, _ = compute_loss(main, targets, config, "classification")
    both, logits = compute_loss((main, aux, aux), targets, config, "classification")
    ce = torch.nn.functional.cross_entropy(aux, targets)
    assert torch.allclose(both, alone + 0.6 * ce) and logits is main


def test_the_curves_mark_the_epoch_best_pt_keeps():
    rows = [
        {"epoch": 1, "val": {"top1": 0.5}},
        {"epoch": 2, "val": {"top1": 0.9}},
        {"epoch": 3, "val": {"top1": float("nan")}},
        {"epoch": 4, "val": {"top1": 0.9}},  # a tie goes to the later epoch, as in the loop
        {"epoch": 5, "val": {"top1": 0.7}},
    ]
    assert best_epoch(rows, "top1") == 4
    assert best_epoch([{"epoch": 1, "val": {}}], "top1") is None
