"""Shared export fixtures: a LeNet run folder, exported files, calibration images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.export import export_small_fcn, fitted_lenet, write_pngs, write_run
from tests.helpers.shared import built_once
from toolkit.export import export_onnx


@pytest.fixture(scope="session")
def digits_lenet() -> torch.nn.Module:
    """The fitted LeNet, built once."""
    return fitted_lenet()


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory, digits_lenet) -> Path:
    """A run folder with a LeNet checkpoint fitted to digits (config.json says so)."""
    return write_run(tmp_path_factory.mktemp("runs") / "lenet", digits_lenet)


@pytest.fixture(scope="module")
def lenet_export(lenet_run):
    """`export_onnx` of the run folder (its report; the file is <run>/model.onnx)."""
    return export_onnx(lenet_run, quiet=True)


@pytest.fixture(scope="session")
def gray_images(tmp_path_factory) -> Path:
    """Twelve real PNG digits (gray, 8x8 upscaled 40x40) for --calib-dir."""
    return write_pngs(tmp_path_factory.mktemp("calib_gray"), channels=1, count=12)


@pytest.fixture(scope="session")
def rgb_images(tmp_path_factory) -> Path:
    """Eight RGB PNGs of random blobs for segmentation models."""
    return write_pngs(tmp_path_factory.mktemp("calib_rgb"), channels=3, count=8)


@pytest.fixture(scope="session")
def fcn_onnx(tmp_path_factory, worker_id) -> Path:
    """The small FCN-8s, exported once for every worker (tests only read it)."""
    return built_once(tmp_path_factory, worker_id, "fcn8s", export_small_fcn) / "fcn8s.onnx"
