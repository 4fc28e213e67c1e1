"""A real CLI run writes the run folder DESIGN.md promises, and it learns."""

from __future__ import annotations

import json

import torch

from toolkit.train.checkpoint import load_checkpoint, model_from_checkpoint


def test_run_folder_has_every_file(digits_run):
    run_dir, result = digits_run
    for name in (
        "config.json",
        "last.pt",
        "best.pt",
        "metrics.jsonl",
        "curves.png",
        "results.json",
    ):
        assert (run_dir / name).is_file(), name
    assert result.stdout.strip().endswith("small")


def test_config_json_holds_the_resolved_config(digits_run):
    config = json.loads((digits_run[0] / "config.json").read_text())
    assert config["data"] == "digits" and config["model"] == "lenet5" and config["seed"] == 1
    assert config["input_size"] == [1, 32, 32] and config["epochs"] == 2
    assert config["model_args"] == {"num_classes": 10, "in_channels": 1}
    assert config["classes"] == [str(d) for d in range(10)]
    assert config["lr"] > 0 and len(config["mean"]) == 1


def test_it_learns_far_beyond_chance(digits_run):
    run_dir, result = digits_run
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert rows[-1]["train"]["loss"] < rows[0]["train"]["loss"]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["test"]["top1"] > 0.6  # chance is 0.1
    assert len(results["test"]["confusion"]) == 10
    assert "test top1" in result.stderr and "epoch 2/2" in result.stderr


def test_diagnostics_are_recorded_every_epoch(digits_run):
    rows = [json.loads(line) for line in (digits_run[0] / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        grads = row["diagnostics"]["grad_norm"]
        assert grads["min"]["norm"] <= grads["max"]["norm"]
        assert grads["vanishing"] == [] and grads["exploding"] == []
        assert row["diagnostics"]["dead_relu"] is None  # lenet5 is tanh: no ReLU to die


def test_checkpoints_follow_the_contract(digits_run):
    run_dir, _ = digits_run
    raw = torch.load(run_dir / "last.pt", weights_only=True)
    for key in (
        "format",
        "model",
        "model_args",
        "task",
        "classes",
        "input_size",
        "mean",
        "std",
        "state_dict",
        "optimizer",
        "scheduler",
        "epoch",
        "metrics",
        "rng",
    ):
        assert key in raw, key
    assert raw["epoch"] == 2 and raw["task"] == "classification"
    best = load_checkpoint(run_dir)
    assert best["path"].endswith("best.pt") and "top1" in best["metrics"]
    model = model_from_checkpoint(best)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
