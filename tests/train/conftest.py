"""One small real training run shared by the train tests (lenet5 on digits, 2 epochs)."""

from __future__ import annotations

import pytest

from tests.helpers.shared import built_once, load_result
from tests.helpers.train import train_small


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory, worker_id):
    """A finished CLI run folder: lenet5, digits, 2 epochs (learns well past chance)."""
    runs = built_once(tmp_path_factory, worker_id, "digits-runs", train_small)
    result = load_result(runs / "train.json")
    assert result.returncode == 0, result.stderr
    return runs / "small", result
