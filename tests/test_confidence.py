"""A rate on few samples carries its 95% interval."""

from __future__ import annotations

import pytest

from toolkit.confidence import small_sample_caveat, wilson_interval
from toolkit.export.qdq import QuantizeReport


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson_interval(7 / 9, 9)
    assert low == pytest.approx(0.4526, abs=1e-4) and high == pytest.approx(0.9368, abs=1e-4)
    assert wilson_interval(1.0, 50)[1] == pytest.approx(1.0)
    assert wilson_interval(0.0, 50)[0] == pytest.approx(0.0)


def test_a_caveat_only_below_a_hundred_samples():
    line = small_sample_caveat("accuracy", 7 / 9, 9)
    assert line == (
        "accuracy 77.78% rests on 9 samples (95% interval 45.3%-93.7%); use 100+ samples "
        "before trusting or comparing it"
    )
    assert small_sample_caveat("accuracy", 0.9, 100) is None
    assert small_sample_caveat("accuracy", None, 5) is None


def test_a_quantize_report_on_nine_samples_carries_its_caveats_into_the_json(tmp_path):
    report = QuantizeReport(
        path=tmp_path / "q.onnx", source=tmp_path / "m.onnx", mode="static", calibration="minmax",
        calib_samples=9, eval_source="folder:photos val split", eval_samples=9,
        metric="accuracy", fp32_metric=7 / 9, quant_metric=7 / 9, agreement=1.0,
        fp32_bytes=100, quant_bytes=30, fp32_latency_ms=1.0, quant_latency_ms=0.5,
    )  # fmt: skip
    caveats = report.to_dict()["caveats"]
    assert [c.split(" rests")[0] for c in caveats] == [
        "agreement 100.00%",
        "fp32 accuracy 77.78%",
        "quantized accuracy 77.78%",
    ]
