"""`cnnkit infer` end to end in a subprocess: summary, exit codes, kill -9 and --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter

from tests.helpers.cli import CNNKIT, ROOT, assert_one_line_error, invoke, run_cli
from tests.helpers.runtime import write_pngs


def test_json_summary_and_exit_1_when_an_input_failed(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 5)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"\x89PNG broken")
    result = run_cli(
        "infer", lenet_onnx, tmp_path / "imgs", "--out", tmp_path / "out", "--json", "--csv"
    )
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["count"], summary["ok"], summary["failed"]) == (6, 5, 1)
    assert summary["provider"] == "CPUExecutionProvider" and summary["images_per_s"] > 0
    assert summary["failures"][0]["path"].endswith("broken.png")
    assert (tmp_path / "out" / "results.csv").exists()


def test_human_output_and_usage_errors(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 2)
    ok = run_cli("infer", lenet_onnx, tmp_path / "imgs", "--out", tmp_path / "out", "-b", "1")
    assert ok.returncode == 0, ok.stderr
    assert "2 inputs: 2 ok, 0 failed" in ok.stdout and "CPUExecutionProvider" in ok.stdout
    again = invoke("infer", lenet_onnx, tmp_path / "imgs", "--out", tmp_path / "out")
    assert_one_line_error(again, "results.jsonl", "--resume")
    missing = invoke("infer", lenet_onnx, tmp_path / "nope", "--out", tmp_path / "o2")
    assert_one_line_error(missing, "nope", "no such file")
    bad_mean = invoke(
        "infer", lenet_onnx, tmp_path / "imgs", "--out", tmp_path / "o3", "--mean", "x"
    )
    assert_one_line_error(bad_mean, "--mean")
    not_onnx = invoke("infer", tmp_path / "imgs" / "img000.png", tmp_path, "--out", tmp_path / "o4")
    assert_one_line_error(not_onnx, "img000.png", "not an ONNX model")


def line_count(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_kill_9_then_resume_finds_every_input_exactly_once(lenet_onnx, tmp_path):
    paths = write_pngs(tmp_path / "imgs", 200, size=(160, 160))
    out = tmp_path / "out"
    results = out / "results.jsonl"
    command = [
        str(CNNKIT),
        "infer",
        str(lenet_onnx),
        str(tmp_path / "imgs"),
    ]
    command += ["--out", str(out), "-b", "4", "--workers", "1", "--threads", "1", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while line_count(results) < 8 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL, "infer finished before the kill"
    written = line_count(results)
    assert 8 <= written < 200

    resumed = subprocess.run(
        [*command, "--resume", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["resumed"] >= 8 and summary["count"] == summary["ok"] == 200
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    counts = Counter(row["path"] for row in rows)
    assert counts == Counter(str(p) for p in paths)
    assert [row["path"] for row in rows] == [str(p) for p in paths]  # input order survives
    assert not [p for p in os.listdir(out) if p.startswith(".tmp")]
