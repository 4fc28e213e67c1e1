"""`cnnkit eval` end to end: the console script scores a folder, writes the confusion PNG
and misclassified files, and scores the results.jsonl that `cnnkit infer` wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.e2e import cnnkit
from tests.helpers.evaluate import digit_folder


def test_eval_and_results_through_the_console_script(tmp_path, lenet_files):
    root = digit_folder(tmp_path / "digits", per_class=3)
    (root / "7" / "broken.png").write_bytes(b"\x89PNG broken")
    model = lenet_files / "model.onnx"
    infer = cnnkit("infer", model, root, "--out", "preds", "--quiet", cwd=tmp_path)
    assert infer.returncode == 1  # the broken file has an error row
    rows = [
        json.loads(line) for line in (tmp_path / "preds/results.jsonl").read_text().splitlines()
    ]
    correct = sum(r["status"] == "ok" and r["label"] == Path(r["path"]).parent.name for r in rows)

    scored = cnnkit(
        "eval", "--results", "preds/results.jsonl", "--data", f"folder:{root}", "--split", "all",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert scored.returncode == 1, scored.stderr  # one unreadable image, listed
    score = json.loads(scored.stdout)["models"][0]
    assert score["samples"] == 31
    assert score["top1"] == pytest.approx(correct / 31)
    assert [u["path"] for u in score["unreadable"]] == [str(root / "7" / "broken.png")]

    run = cnnkit(
        "eval", model, "--data", f"folder:{root}", "--split", "all", "--plot", "confusion.png",
        "--out", "ev", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 1
    assert "top1" in run.stdout and "broken.png" in run.stderr
    report = json.loads((tmp_path / "ev/eval.json").read_text())
    wrong = (tmp_path / "ev/misclassified.jsonl").read_text().splitlines()
    top1 = report["models"][0]["top1"]
    assert len(wrong) == round((1 - top1) * 31) - 1  # the unreadable image is not listed there
    with Image.open(tmp_path / "confusion.png") as png:
        assert png.size[0] > 300 and png.size[1] > 300


def test_class_mismatch_is_one_line(tmp_path, lenet_files):
    root = digit_folder(tmp_path / "pets", per_class=1, classes=(0, 1))
    (root / "0").rename(root / "cat")
    (root / "1").rename(root / "dog")
    result = invoke("eval", str(lenet_files / "model.onnx"), "--data", f"folder:{root}",
                    "--split", "all")  # fmt: skip
    assert_one_line_error(result, "'cat'", "--label-map")
