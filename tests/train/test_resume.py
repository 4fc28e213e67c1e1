"""Resume ends like an uninterrupted run; a SIGKILLed run resumes to completion."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
import torch

from tests.helpers.cli import CNNKIT, ROOT, run_cli
from toolkit.train import TrainConfig, fit
from toolkit.train.checkpoint import load_checkpoint

TINY = dict(model="lenet", data="digits", limit=256, threads=1, seed=3)


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight = fit(
        TrainConfig(**TINY, epochs=2, schedule="none", runs_dir=str(tmp_path), name="straight"),
        quiet=True,
    )
    first = fit(
        TrainConfig(**TINY, epochs=1, schedule="none", runs_dir=str(tmp_path), name="split"),
        quiet=True,
    )
    resumed = fit(TrainConfig(resume=str(first), epochs=2, threads=1), quiet=True)
    assert resumed == first
    a = load_checkpoint(straight, prefer="last.pt")
    b = load_checkpoint(resumed, prefer="last.pt")
    assert b["epoch"] == 2
    for name, tensor in a["state_dict"].items():
        assert torch.allclose(tensor, b["state_dict"][name], atol=1e-6), name
    rows = [json.loads(line) for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]


@pytest.mark.slow  # three training processes; the test above covers resume in-process
def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    whole = fit(TrainConfig(**TINY, epochs=3, runs_dir=str(tmp_path), name="whole"), quiet=True)
    args = [
        "train",
        "lenet",
        "--data",
        "digits",
        "--epochs",
        "3",
        "--limit",
        "256",
        "--seed",
        "3",
        "--threads",
        "1",
        "--runs-dir",
        str(tmp_path),
        "--name",
        "killed",
    ]
    process = subprocess.Popen(
        [str(CNNKIT), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_dir = tmp_path / "killed"
    deadline = time.monotonic() + 300
    while not (run_dir / "last.pt").exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no last.pt appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert load_checkpoint(run_dir, prefer="last.pt")["epoch"] >= 1
    resumed = run_cli("train", "--resume", run_dir, "--threads", "1")
    assert resumed.returncode == 0, resumed.stderr
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    last = load_checkpoint(run_dir, prefer="last.pt")
    assert last["epoch"] == 3 and load_checkpoint(run_dir)["epoch"] >= 1
    reference = load_checkpoint(whole, prefer="last.pt")
    for name, tensor in reference["state_dict"].items():
        assert torch.allclose(tensor, last["state_dict"][name], atol=1e-5), name
