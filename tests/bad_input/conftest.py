"""One small world of real files, good and bad, shared by the bad-input and security tests.

A LeNet trained for one epoch on 64 digits and exported, plus every kind of file users
hand the CLI by mistake (or on purpose): built once per session, read by every case.
The suite counts what it proves and states the totals in pytest's terminal summary.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest

from tests.helpers.bad_input import (
    TALLY,
    rank2_model,
    segmenter,
    with_external_data,
    write_checkpoints,
    write_damaged,
    write_images,
)
from toolkit.export import export_onnx
from toolkit.train import TrainConfig, fit


def pytest_runtest_logreport(report) -> None:
    """Count the bad-input cases run here and how they ended."""
    if report.when == "call" and "tests/bad_input/" in report.nodeid.replace("\\", "/"):
        TALLY["tried"] += 1
        TALLY["passed" if report.passed else "failed"] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    """The suite's totals: cases tried, refused with one line, rows lost."""
    if not TALLY["tried"]:
        return
    lost = TALLY["rows_expected"] - TALLY["rows_written"]
    terminalreporter.write_sep("-", "bad-input totals")
    terminalreporter.write_line(
        f"cases tried: {TALLY['tried']} ({TALLY['passed']} held, {TALLY['failed']} failed); "
        f"handled with one line: {TALLY['one_line']}; rows expected "
        f"{TALLY['rows_expected']}, written {TALLY['rows_written']}; rows lost: {lost}"
    )


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> SimpleNamespace:
    """Every file the bad-input cases need, as absolute paths (format keys for the table)."""
    root = tmp_path_factory.mktemp("bad-input")
    config = TrainConfig(
        model="lenet",
        data="digits",
        epochs=1,
        limit=64,
        threads=1,
        runs_dir=str(root / "runs"),
        name="lenet",
    )
    run = fit(config, quiet=True)
    onnx_path = export_onnx(run, quiet=True).path
    # Files later stages write beside a run; every failing command must leave them as they are.
    (run / "profile.json").write_text('{"kept": "profile"}\n')
    (run / "bench.json").write_text('[{"kept": "bench"}]\n')
    (run / "model.int8.onnx").write_bytes(b"kept: an earlier int8 model")
    paths = {"root": root, "run": run, "onnx": onnx_path}
    paths.update(write_images(root))
    paths.update(write_checkpoints(root, run))
    paths.update(write_damaged(root, run, onnx_path))
    (root / "models").mkdir()
    paths["rank2"] = root / "models" / "rank2.onnx"
    onnx.save(rank2_model(), str(paths["rank2"]))
    paths["seg"] = root / "models" / "colour.onnx"
    onnx.save(segmenter(), str(paths["seg"]))
    paths["not_onnx"] = root / "models" / "notes.onnx"
    paths["not_onnx"].write_text("not a model\n")
    paths["empty_onnx"] = root / "models" / "empty.onnx"
    paths["empty_onnx"].write_bytes(b"")
    paths["truncated_onnx"] = root / "models" / "truncated.onnx"
    paths["truncated_onnx"].write_bytes(onnx_path.read_bytes()[:500])
    paths["escape"] = with_external_data(onnx_path, root / "escape", "../outside.data")
    absolute = str(root / "absolute.data")
    paths["absolute"] = with_external_data(onnx_path, root / "absolute", absolute)
    paths["linked"] = with_external_data(onnx_path, root / "linked", "weights.data")
    shutil.move(root / "linked" / "weights.data", root / "linked-target.data")
    (root / "linked" / "weights.data").symlink_to(root / "linked-target.data")
    nan = np.zeros((1, 32, 32), np.float32)
    nan[0, 3, 3] = np.nan
    np.save(root / "nan.npy", nan)
    stack = np.zeros((3, 1, 32, 32), np.float32)
    stack[1, 0, 0, 0] = np.inf
    np.save(root / "stack.npy", stack)
    paths["nan"], paths["stack"] = root / "nan.npy", root / "stack.npy"
    paths["wrong_shape"] = root / "wrong-shape.npy"
    np.save(paths["wrong_shape"], np.zeros((3, 8, 8), np.float32))
    paths["labels3"] = root / "labels3.txt"
    paths["labels3"].write_text("cat\ndog\nbird\n")
    paths["labels11"] = root / "labels11.txt"
    paths["labels11"].write_text("".join(f"class{i}\n" for i in range(11)))
    paths["labels_empty"] = root / "labels-empty.txt"
    paths["labels_empty"].write_text("\n\n")
    return SimpleNamespace(**{k: Path(v) for k, v in paths.items()})
