"""Shared eval fixtures: the digits training run of tests/train, its fp32 and INT8 exports,
and the small FCN-8s of tests/export (each built once for every worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.export import export_small_fcn
from tests.helpers.shared import built_once, load_result
from tests.helpers.train import train_small


def export_both(folder: Path, run: Path) -> None:
    """FOLDER/model.onnx and FOLDER/model.int8.onnx of the run (not written into the run)."""
    from toolkit.export import export_onnx, quantize_onnx

    export_onnx(run, folder / "model.onnx", quiet=True)
    quantize_onnx(
        folder / "model.onnx", folder / "model.int8.onnx", data="digits", samples=64,
        force=True, quiet=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory, worker_id) -> Path:
    """The CLI-trained lenet5 run folder (digits, 2 epochs, --seed 1)."""
    runs = built_once(tmp_path_factory, worker_id, "digits-runs", train_small)
    assert load_result(runs / "train.json").returncode == 0
    return runs / "small"


@pytest.fixture(scope="session")
def lenet_files(tmp_path_factory, worker_id, digits_run) -> Path:
    """A folder holding model.onnx and model.int8.onnx of the digits run."""
    return built_once(
        tmp_path_factory, worker_id, "eval-lenet", lambda folder: export_both(folder, digits_run)
    )


@pytest.fixture(scope="session")
def fcn_onnx(tmp_path_factory, worker_id) -> Path:
    """The small FCN-8s of tests/export, exported once for every worker."""
    return built_once(tmp_path_factory, worker_id, "fcn8s", export_small_fcn) / "fcn8s.onnx"
