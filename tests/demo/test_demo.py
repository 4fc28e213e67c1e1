"""`cnnkit demo --quick` end to end: every stage runs and REPORT.md holds every table."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import invoke, run_cli

# The quick demo through the real CLI takes ~100 s of one core: the slow suite runs it (and
# CI's fresh-clone check runs it again); tests/e2e keeps the whole chain in the default suite.
QUICK_DEMO = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One quick demo run through the real CLI."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    result = run_cli("demo", "--quick", "--quiet", "--out", out, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result


@QUICK_DEMO
def test_demo_writes_report_with_every_stage(demo):
    out, result = demo
    report = (out / "REPORT.md").read_text()
    assert str(out / "REPORT.md") in result.stdout
    for job in ("lenet5", "fcn8s"):
        for stage in ("train", "export", "quantize", "profile", "bench", "infer"):
            assert f"### {job}: {stage}" in report
    assert "max abs" in report  # parity table
    assert "agreement" in report  # quantize table
    assert "receptive" in report.lower() or "RF" in report  # profile table
    assert "torch-eager" in report  # bench against torch
    for picture in ("lenet5/curves.png", "latency-lenet5.png", "overlays-fcn8s.png"):
        assert (out / picture).stat().st_size > 0
        assert picture in report


@QUICK_DEMO
def test_demo_infer_reports_broken_files_and_scores_the_rest(demo):
    out, _ = demo
    stages = json.loads((out / "demo.json").read_text())
    infer = {s["job"]: s for s in stages if s["stage"] == "infer"}
    assert infer["lenet5"]["failed"] == 3 and infer["fcn8s"]["failed"] == 3
    assert infer["lenet5"]["images"] == 40
    assert 0.0 <= infer["lenet5"]["accuracy"] <= 1.0
    assert 0.0 <= infer["fcn8s"]["miou"] <= 1.0
    rows = (out / "infer-lenet5" / "results.jsonl").read_text().splitlines()
    assert len(rows) == 43


@QUICK_DEMO
def test_demo_never_clobbers_an_earlier_run(demo, tmp_path):
    out, _ = demo
    from toolkit.demo.pipeline import fresh_folder

    second = fresh_folder(out)
    assert second == out.with_name("demo-2") and second.is_dir()
    assert (out / "REPORT.md").exists()


def test_demo_rejects_negative_seed(tmp_path):
    from tests.helpers.cli import assert_one_line_error

    result = invoke("demo", "--seed", "-1", "--out", tmp_path / "d")
    assert_one_line_error(result, "seed")
    assert not (tmp_path / "d").exists()
