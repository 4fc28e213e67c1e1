"""Every numeric flag of every verb is finite and never negative where that means nothing.

The walk covers each command's options (hidden old spellings too): a flag typed as a bare
int or float, or as a click range that lets nan or inf through, fails here by name.
"""

from __future__ import annotations

import click
import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from toolkit.cli import cli
from toolkit.commands.options import FiniteFloat

SIGNED = {("diff", "min_sqnr")}  # a floor in decibels: below zero is a real request


def numeric_params() -> list[tuple[str, click.Parameter]]:
    """(verb, parameter) for every int- or float-typed parameter of every verb."""
    found = []
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType)):
                found.append((name, param))
    return found


PARAMS = numeric_params()
IDS = [f"{verb}:{param.name}" for verb, param in PARAMS]


def refuses(param: click.Parameter, text: str) -> bool:
    """Whether the flag's type refuses `text` with click's usage error."""
    try:
        param.type.convert(text, param, None)
    except click.BadParameter:
        return True
    return False


def test_the_walk_finds_the_flags_of_every_verb():
    verbs = {verb for verb, _ in PARAMS}
    assert {"train", "serve", "bench", "diff", "quantize", "infer", "profile"} <= verbs
    assert len(PARAMS) > 40


@pytest.mark.parametrize(("verb", "param"), PARAMS, ids=IDS)
def test_no_numeric_flag_takes_nan_inf_or_a_meaningless_negative(verb, param):
    if isinstance(param.type, click.types.FloatParamType):
        assert isinstance(param.type, FiniteFloat), f"{verb} {param.opts}: a bare float"
        for text in ("nan", "inf", "-inf", "NaN", "1e999"):
            assert refuses(param, text), (verb, param.opts, text)
    else:
        assert isinstance(param.type, click.IntRange), f"{verb} {param.opts}: a bare int"
    if (verb, param.name) not in SIGNED:
        assert refuses(param, "-1"), (verb, param.opts)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["serve", "m.onnx", "--max-delay-ms", "inf"], "--max-delay-ms"),
        (["serve", "m.onnx", "--timeout", "nan"], "--timeout"),
        (["serve", "m.onnx", "--max-queue", "-3"], "--max-queue"),
        (["train", "lenet5", "--lr", "nan"], "--lr"),
        (["diff", "a.onnx", "b.onnx", "--atol", "-1"], "--atol"),
        (["bench", "m.onnx", "--duration", "inf"], "--duration"),
    ],
)
def test_a_bad_number_is_one_line_and_exit_2(args, flag):
    assert_one_line_error(invoke(*args), flag)


def test_out_of_range_values_are_refused_before_any_work(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"never read: the flags are checked first")
    big_queue = invoke("serve", model, "--max-queue", "1000000000")
    assert_one_line_error(big_queue, "--max-queue", "1..100000")
    long_delay = invoke("serve", model, "--max-delay-ms", "1e9")
    assert_one_line_error(long_delay, "--max-delay-ms")
    workers = invoke("train", "lenet5", "--loader-workers", "10000", cwd=tmp_path)
    assert_one_line_error(workers, "--loader-workers", "10000")
    assert not (tmp_path / "runs").exists()  # refused before a run folder was made
    threads = invoke("infer", model, model, "-o", tmp_path / "o", "--workers", "99999")
    assert_one_line_error(threads, "--workers", "99999")
