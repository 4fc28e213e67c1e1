"""Small data is announced before its figures mislead: split counts and warnings."""

from __future__ import annotations

import json

import numpy as np

from tests.helpers.cli import invoke
from tests.helpers.data import write_class_folder
from toolkit.data.dataset import ArrayDataset
from toolkit.train.guardrails import counts_line, small_data_warnings


def split(counts: dict[str, int]) -> ArrayDataset:
    targets = np.concatenate([np.full(n, i) for i, n in enumerate(counts.values())])
    images = np.zeros((len(targets), 4, 4, 1), np.uint8)
    return ArrayDataset(images, targets, list(counts), task="classification", mean=[0.5], std=[0.5])


def test_counts_per_class_and_the_warnings_a_tiny_folder_gets():
    splits = {
        "train": split({"cat": 14, "dog": 14, "owl": 14}),
        "val": split({"cat": 4, "dog": 5, "owl": 0}),
        "test": split({"cat": 3, "dog": 3, "owl": 3}),
    }
    assert counts_line(splits) == (
        "data: train 42 (cat 14, dog 14, owl 14) | val 9 (cat 4, dog 5, owl 0) | "
        "test 9 (cat 3, dog 3, owl 3)"
    )
    warnings = small_data_warnings(splits, batch_size=64)
    assert warnings[0].startswith("--batch-size 64 is larger than the 42 training samples")
    assert "the val split holds 9 samples (< 20): the best epoch is picked on it" in warnings[1]
    assert warnings[2] == "the val split has no sample of: owl"
    assert "the test split holds 9 samples" in warnings[3] and len(warnings) == 4


def test_enough_data_gets_no_warning():
    splits = {name: split({"a": 30, "b": 30}) for name in ("train", "val", "test")}
    assert small_data_warnings(splits, batch_size=32) == []


def test_train_on_a_small_folder_warns_once_and_keeps_the_warnings(tmp_path):
    write_class_folder(tmp_path / "photos", per_class=6)
    result = invoke(
        "train", "lenet5", "--data", "folder:photos", "--input-size", "1,32,32", "--epochs",
        "1", "--runs-dir", "runs", "--name", "small", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # cat's one val image is the folder's broken file: val is left with no cat, and says so
    assert "data: train 9 (cat 5, dog 4) | val 1 (cat 0, dog 1) | test 2" in result.stderr
    assert result.stderr.count("warning: --batch-size 64 is larger than the 9") == 1
    assert "warning: the val split has no sample of: cat" in result.stderr
    config = json.loads((tmp_path / "runs" / "small" / "config.json").read_text())
    assert len(config["data_warnings"]) == 4
