"""Diff fixtures: the fitted LeNet run, and a copy built to break naive INT8."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.diff import break_for_int8
from tests.helpers.export import fitted_lenet, write_pngs, write_run
from toolkit.export import export_onnx


@pytest.fixture(scope="session")
def good_run(tmp_path_factory) -> Path:
    """The fitted LeNet's run folder, exported (model.onnx beside best.pt)."""
    run = write_run(tmp_path_factory.mktemp("good") / "lenet", fitted_lenet())
    export_onnx(run, quiet=True)
    return run


@pytest.fixture(scope="session")
def broken_run(tmp_path_factory) -> Path:
    """The LeNet with one channel scaled x1000 (and undone in the next conv), exported."""
    run = write_run(tmp_path_factory.mktemp("broken") / "lenet", break_for_int8(fitted_lenet()))
    export_onnx(run, quiet=True)
    return run


@pytest.fixture(scope="session")
def gray_pngs(tmp_path_factory) -> Path:
    """Six gray digit PNGs for --inputs."""
    return write_pngs(tmp_path_factory.mktemp("pngs"), channels=1, count=6)
