"""Usable cores (affinity, cgroup quota), `--workers auto`, and the runner's time split."""

from __future__ import annotations

import os

import pytest

from toolkit.errors import CnnkitError
from toolkit.runtime import run_inference, workers
from toolkit.runtime.workers import plan_workers, read_quota, usable_cores


def test_cgroup_v2_and_v1_quotas(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert read_quota(v2) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert read_quota(v2) is None
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert read_quota(v1) == 2.0
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    assert read_quota(v1) is None
    assert read_quota(tmp_path / "absent") is None


def test_usable_cores_follow_affinity_and_quota(monkeypatch):
    cores = usable_cores()
    assert 1 <= cores.usable <= cores.affinity <= cores.logical
    if hasattr(os, "sched_getaffinity"):
        assert cores.affinity == len(os.sched_getaffinity(0))
    monkeypatch.setattr(workers, "cpu_quota", lambda: 0.5)  # half a CPU: still one core
    assert usable_cores().usable == 1 and usable_cores().quota == 0.5


def test_auto_sizes_workers_and_threads_together(monkeypatch):
    monkeypatch.setattr(workers, "cpu_quota", lambda: 3.0)
    monkeypatch.setattr(workers, "affinity_cores", lambda: 8)
    assert plan_workers("auto", None) == workers.WorkerPlan(3, 3, 3)
    assert plan_workers(None, 2).threads == 2  # --threads given: kept
    assert plan_workers("5", None) == workers.WorkerPlan(5, None, 3)
    for bad in ("0", "many"):
        with pytest.raises(CnnkitError, match="--workers"):
            plan_workers(bad, None)


def test_summary_reports_the_split(lenet_onnx, tmp_path):
    from tests.helpers.runtime import write_pngs

    write_pngs(tmp_path / "imgs", 6)
    summary = run_inference(
        lenet_onnx, [tmp_path / "imgs"], tmp_path / "out", batch_size=4, quiet=True
    )
    split = summary.split
    assert split["decode"] == "fast" and split["workers"] == usable_cores().usable
    assert split["threads"] == usable_cores().usable
    assert split["decode_ms_per_image"] > 0 and split["infer_ms_per_batch"] > 0
    assert 0 <= split["idle_share"] <= 1 and split["idle_s"] >= 0
