"""evaluate(): figures equal to bare onnxruntime + numpy (and scikit-learn's metrics) on
real models: the trained LeNet in fp32 and INT8, a foreign NHWC model, the FCN-8s."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from tests.helpers.cli import run_without_torch
from tests.helpers.evaluate import (
    RUN_SEED,
    bare_outputs,
    digit_folder,
    expected_classification,
    metadata,
    nhwc_linear_model,
)
from toolkit.data import split_arrays
from toolkit.errors import CnnkitError
from toolkit.evaluate import EvalData, EvalOptions, evaluate
from toolkit.runfolder import RunFolder
from toolkit.runtime.options import PredictorOptions

DIGITS_TEST = EvalData("digits", "test", RUN_SEED)


def test_lenet_fp32_and_int8_side_by_side(lenet_files):
    fp32, int8 = lenet_files / "model.onnx", lenet_files / "model.int8.onnx"
    report = evaluate([fp32, int8], DIGITS_TEST, EvalOptions(quiet=True))
    expected = [expected_classification(p, "digits", "test", RUN_SEED) for p in (fp32, int8)]
    for score, want in zip(report.models, expected, strict=True):
        assert score.top1 == pytest.approx(want["top1"])
        assert score.top5 == pytest.approx(want["top5"])
        assert score.confusion == want["confusion"]
        assert score.samples == len(want["pred"])
    assert [s.precision for s in report.models] == ["fp32", "int8"]
    first, second = report.models
    assert second.delta["top1"] == pytest.approx(second.top1 - first.top1)
    same = float((expected[0]["pred"] == expected[1]["pred"]).mean())
    assert report.agreement[0]["agreement"] == pytest.approx(same)
    _, targets, classes = split_arrays("digits", "test", (1, 32, 32), RUN_SEED)
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, expected[0]["pred"], labels=range(10), zero_division=0
    )
    for k, name in enumerate(classes):
        row = first.per_class[name]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx(
            (precision[k], recall[k], f1[k])
        )
        assert row["support"] == support[k]


def test_checkpoint_scores_what_its_export_and_train_report(digits_run, lenet_files):
    from toolkit.eval_torch import evaluate_models

    report = evaluate_models([digits_run, lenet_files / "model.onnx"], DIGITS_TEST)
    torch_side, onnx_side = report.models
    assert torch_side.provider == "torch-cpu"
    assert torch_side.top1 == onnx_side.top1
    trained = json.loads(RunFolder(digits_run).results.read_text())
    assert torch_side.top1 == pytest.approx(trained["test"]["top1"])


def test_foreign_nhwc_model(tmp_path):
    model = nhwc_linear_model(tmp_path / "nhwc.onnx")
    options = EvalOptions(PredictorOptions().updated(mean=(0.0,), std=(1.0,)), quiet=True)
    report = evaluate([model], EvalData("digits"), options)
    images, targets, _ = split_arrays("digits", "test", (1, 8, 8), 0)
    pred = bare_outputs(model, np.asarray(images, np.float32) / 255.0).argmax(1)
    assert report.models[0].top1 == pytest.approx(float((pred == targets).mean()))


def test_fcn_miou_on_digit_scenes(fcn_onnx, tmp_path):
    with pytest.raises(CnnkitError, match="'background'"):  # the zoo export names 0..10
        evaluate([fcn_onnx], EvalData("digit-scenes"), EvalOptions(quiet=True))
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(["background", *map(str, range(10))]) + "\n")
    options = EvalOptions(PredictorOptions().updated(labels=str(labels)), quiet=True)
    report = evaluate([fcn_onnx], EvalData("digit-scenes"), options)
    meta = metadata(fcn_onnx)
    images, masks, _ = split_arrays("digit-scenes", "test", tuple(meta["input_size"]), 0)
    x = (np.asarray(images, np.float32) / 255.0 - meta["mean"][0]) / meta["std"][0]
    pred = bare_outputs(fcn_onnx, x.transpose(0, 3, 1, 2).copy()).argmax(1)
    keep = np.asarray(masks) != 255
    target, pred = np.asarray(masks)[keep].astype(int), pred[keep]
    k = len(meta["classes"])
    ious = []
    for c in range(k):
        union = ((target == c) | (pred == c)).sum()
        if union:
            ious.append(((target == c) & (pred == c)).sum() / union)
    score = report.models[0]
    assert score.miou == pytest.approx(float(np.mean(ious)))
    assert score.pixel_accuracy == pytest.approx(float((target == pred).mean()))


def test_unreadable_images_stay_in_the_denominator(tmp_path, lenet_files):
    root = digit_folder(tmp_path / "digits", per_class=2)
    (root / "3" / "broken.png").write_bytes(b"not a png")
    report = evaluate(
        [lenet_files / "model.onnx"], EvalData(f"folder:{root}", "all"), EvalOptions(quiet=True)
    )
    score = report.models[0]
    assert score.samples == 21
    assert [u["path"] for u in score.unreadable] == [str(root / "3" / "broken.png")]
    correct = np.trace(np.asarray(score.confusion))
    assert score.top1 == pytest.approx(correct / 21)
    assert score.per_class["3"]["support"] == 3


def test_class_names_are_matched_or_refused(tmp_path, lenet_files):
    root = digit_folder(tmp_path / "named", per_class=2, classes=(0, 1))
    (root / "0").rename(root / "zero")
    model = lenet_files / "model.onnx"
    with pytest.raises(CnnkitError, match="'zero'.*--label-map"):
        evaluate([model], EvalData(f"folder:{root}", "all"), EvalOptions(quiet=True))
    names = tmp_path / "names.txt"
    names.write_text("zero=0\n")
    mapped = evaluate(
        [model], EvalData(f"folder:{root}", "all"), EvalOptions(label_map=str(names), quiet=True)
    )
    assert mapped.models[0].per_class["0"]["support"] == 2
    assert mapped.models[0].samples == 4


def test_empty_folder_is_refused(tmp_path, lenet_files):
    for name in ("a", "b"):
        (tmp_path / "empty" / name).mkdir(parents=True)
    with pytest.raises(CnnkitError, match="hold no files"):
        evaluate([lenet_files / "model.onnx"], EvalData(f"folder:{tmp_path / 'empty'}", "all"))


def test_onnx_side_runs_without_torch(lenet_files):
    model = lenet_files / "model.onnx"
    result = run_without_torch(
        f"""
        from toolkit.evaluate import EvalData, EvalOptions, evaluate
        report = evaluate([{str(model)!r}], EvalData("digits", "test", {RUN_SEED}),
                          EvalOptions(quiet=True))
        print(report.models[0].top1)
        """
    )
    assert result.returncode == 0, result.stderr
    expected = expected_classification(model, "digits", "test", RUN_SEED)["top1"]
    assert float(result.stdout.split()[-1]) == pytest.approx(expected)
