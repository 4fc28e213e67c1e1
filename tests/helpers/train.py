"""Test helpers for tests/train/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from tests.helpers.cli import run_cli
from tests.helpers.shared import save_result


def train_small(runs) -> None:
    """`cnnkit train` lenet5 on digits for 2 epochs into RUNS/small; its output beside it."""
    result = run_cli(
        "train", "lenet5", "--data", "digits", "--epochs", "2",
        "--runs-dir", runs, "--name", "small", "--seed", "1",
    )  # fmt: skip
    save_result(result, runs / "train.json")
