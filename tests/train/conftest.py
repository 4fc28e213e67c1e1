"""One small real training run shared by the train tests (lenet5 on digits, 2 epochs)."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_cli


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A finished CLI run folder: lenet5, digits, 2 epochs (learns well past chance)."""
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli(
        "train",
        "lenet5",
        "--data",
        "digits",
        "--epochs",
        "2",
        "--runs-dir",
        runs,
        "--name",
        "small",
        "--seed",
        "1",
    )
    assert result.returncode == 0, result.stderr
    return runs / "small", result
