"""Bad input through `cnnkit train`: one line naming the problem, exit code 2."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from tests.helpers.cli import assert_one_line_error
from toolkit.cli import cli


class Outcome:
    """A CliRunner result with the fields assert_one_line_error reads."""

    def __init__(self, result):
        self.returncode, self.stdout, self.stderr = result.exit_code, result.stdout, result.stderr


def train(*args: str) -> Outcome:
    """Invoke `cnnkit train ARGS` in-process."""
    return Outcome(CliRunner().invoke(cli, ["train", *map(str, args)]))


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["lenet9"], ["unknown model", "lenet9"]),
        (["lenet", "--data", "mnist"], ["--data", "mnist"]),
        (["lenet", "--data", "folder:/no/such/dir"], ["no such folder"]),
        (["lenet", "--epochs", "0"], ["--epochs", "not in the range x>=1"]),
        (["lenet", "--batch-size", "-3"], ["--batch-size", "not in the range x>=1"]),
        (["lenet", "--data", "digit-scenes"], ["classification", "segmentation"]),
        (["lenet", "--model-arg", "width"], ["--model-arg", "key=value"]),
        (["--resume", "/no/such/run"], ["--resume", "no such run folder"]),
        ([], ["MODEL"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needles, tmp_path):
    assert_one_line_error(train(*args, "--runs-dir", tmp_path), *needles)


def test_an_existing_run_folder_is_never_overwritten_silently(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "config.json").write_text("{}")
    result = train("lenet", "--runs-dir", tmp_path, "--name", "taken")
    assert_one_line_error(result, "already exists", "--exist-ok")
    assert (tmp_path / "taken" / "config.json").read_text() == "{}"


def test_a_model_option_it_does_not_take_is_named(tmp_path):
    result = train("lenet", "--model-arg", "backbone=resnet18", "--runs-dir", tmp_path)
    assert_one_line_error(result, "backbone")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error(tmp_path):
    result = train("lenet", "--device", "cuda", "--runs-dir", tmp_path)
    assert_one_line_error(result, "--device cuda", "CUDA is not available")
    assert not any(tmp_path.iterdir())


def test_a_diverging_run_stops_with_exit_2_and_keeps_its_checkpoint(tmp_path):
    result = train(
        "lenet",
        "--optimizer",
        "sgd",
        "--lr",
        "1e6",
        "--limit",
        "128",
        "--epochs",
        "3",
        "--threads",
        "1",
        "--runs-dir",
        tmp_path,
        "--name",
        "boom",
    )
    assert_one_line_error(result, "loss became nan", "last good checkpoint")
    assert "exploding gradients" in result.stderr
    assert (tmp_path / "boom" / "last.pt").is_file()
