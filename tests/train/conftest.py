"""One small real training run shared by the train tests (lenet5 on digits, 2 epochs)."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_cli
from tests.helpers.shared import built_once, load_result, save_result


def train_small(runs) -> None:
    """`cnnkit train` lenet5 on digits for 2 epochs into RUNS/small; its output beside it."""
    result = run_cli(
        "train", "lenet5", "--data", "digits", "--epochs", "2",
        "--runs-dir", runs, "--name", "small", "--seed", "1",
    )  # fmt: skip
    save_result(result, runs / "train.json")


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory, worker_id):
    """A finished CLI run folder: lenet5, digits, 2 epochs (learns well past chance)."""
    runs = built_once(tmp_path_factory, worker_id, "digits-runs", train_small)
    result = load_result(runs / "train.json")
    assert result.returncode == 0, result.stderr
    return runs / "small", result
