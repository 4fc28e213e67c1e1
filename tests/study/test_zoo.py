"""`cnnkit compare`: the zoo table, measured on LeNet-5 (the only model small enough here)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import assert_one_line_error, invoke, run_cli
from toolkit.errors import CnnkitError
from toolkit.study.zoo import DEFAULT_MODELS, compare_models


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache folder shared by the tests, so LeNet-5 is exported once."""
    return tmp_path_factory.mktemp("zoo")


def test_lenet5_row(cache, tmp_path):
    plot = tmp_path / "zoo.png"
    (row,) = compare_models(["lenet5"], iterations=2, warmup=0, threads=1, cache=cache, plot=plot)
    assert (row.model, row.task, row.input_size) == ("lenet5", "classification", [1, 32, 32])
    assert row.params == row.onnx_params == 61_706  # the paper's count (DESIGN.md)
    assert 300_000 < row.macs < 500_000 and row.flops >= row.macs
    assert row.receptive_field == 32  # C5 sees the whole 32x32 input
    assert row.onnx_bytes > 61_706 * 4
    assert row.p50_ms > 0 and row.throughput_ips > 0
    assert (cache / "lenet5.onnx").is_file() and plot.stat().st_size > 1000


def test_cli_json_reuses_the_cache(cache):
    result = run_cli(
        "compare", "--models", "lenet5", "--iterations", "2", "--cache", cache, "--json"
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["model"] == "lenet5" and row["params"] == 61_706
    assert "reusing" in result.stderr


def test_default_set_is_one_model_per_family():
    assert "vgg19" not in DEFAULT_MODELS and {"lenet5", "resnet18"} <= set(DEFAULT_MODELS)


def test_unknown_model_is_a_user_error():
    with pytest.raises(CnnkitError, match="unknown model 'resnet19'"):
        compare_models(["resnet19"])


def test_cli_bad_iterations_is_one_line():
    result = invoke("compare", "--models", "lenet5", "--iterations", "0")
    assert_one_line_error(result, "--iterations", "0 is not in the range x>=1")
