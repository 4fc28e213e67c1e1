"""Segmentation rows infer wrote, scored against a voc: folder's label maps at full size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.evaluate import scene_voc
from toolkit.data.scenes import CLASSES
from toolkit.evaluate import EvalData, EvalOptions, score_results
from toolkit.runtime import run_inference
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.results import read_rows


@pytest.mark.slow
def test_voc_rows_score_as_their_masks_say(tmp_path, fcn_onnx):
    root = scene_voc(tmp_path / "voc")
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(CLASSES) + "\n")
    options = PredictorOptions().updated(labels=str(labels))
    run_inference(fcn_onnx, [root / "images"], tmp_path / "preds", options, quiet=True)
    results = tmp_path / "preds" / "results.jsonl"
    report = score_results(results, EvalData(f"voc:{root}", "all"), EvalOptions(quiet=True))
    pred, truth = [], []
    for row in read_rows(results):
        pred.append(np.asarray(Image.open(results.parent / row["mask"])).ravel())
        truth.append(np.asarray(Image.open(root / "masks" / Path(row["path"]).name)).ravel())
    pred, truth = np.concatenate(pred), np.concatenate(truth)
    keep = truth != 255
    pred, truth = pred[keep], truth[keep]
    ious = [
        ((truth == c) & (pred == c)).sum() / ((truth == c) | (pred == c)).sum()
        for c in range(len(CLASSES))
        if ((truth == c) | (pred == c)).any()
    ]
    score = report.models[0]
    assert score.samples == 6
    assert score.pixel_accuracy == pytest.approx(float((pred == truth).mean()))
    assert score.miou == pytest.approx(float(np.mean(ious)))
