"""`cnnkit bench --serve`: the load generator against a real server."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers.cli import assert_one_line_error
from tests.helpers.serve import CNNKIT
from toolkit.serve.scrape import parse_totals


def test_load_levels_as_json_and_a_plot(serve, lenet_onnx, digits_pngs, tmp_path):
    folder = digits_pngs[0].parent
    plot = tmp_path / "load.png"
    with serve(lenet_onnx) as server:
        result = subprocess.run(
            [str(CNNKIT), "bench", "--serve", server.url, "--inputs", str(folder)]
            + ["--concurrency", "1,4", "--duration", "0.5", "--json", "--plot", str(plot)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        table = subprocess.run(
            [str(CNNKIT), "bench", "--serve", f"{server.url}/v1/models/lenet/predict"]
            + ["--inputs", str(digits_pngs[0]), "--concurrency", "2", "--duration", "0.3"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [level["concurrency"] for level in report["levels"]] == [1, 4]
    for level in report["levels"]:
        assert level["errors"] == 0 and level["requests"] > 0
        assert level["statuses"] == {"200": level["requests"]}
        assert level["p50_ms"] <= level["p90_ms"] <= level["p95_ms"] <= level["p99_ms"]
        assert level["server"]["batches"] > 0 and level["server"]["compute_ms"] > 0
        assert level["server"]["queue_wait_ms"] >= 0
    assert plot.stat().st_size > 1000
    assert table.returncode == 0, table.stderr
    assert "req/s" in table.stdout and "p99" in table.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--serve", "http://127.0.0.1:9/v1/models/x", "--inputs", "."], "cannot reach"),
        (["--serve", "ftp://host/x", "--inputs", "."], "--serve"),
        (["--serve", "http://127.0.0.1:9/v1/models/x"], "--inputs"),
    ],
)
def test_bad_load_arguments_exit_2_with_one_line(args, needle, digits_pngs, tmp_path):
    args = [a if a != "." else str(digits_pngs[0]) for a in args]
    result = subprocess.run(
        [str(CNNKIT), "bench", *args, "--duration", "0.1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert_one_line_error(result, needle)


def test_metrics_totals_are_read_per_model():
    text = (
        'cnnkit_batch_size_count{model="a"} 4.0\n'
        'cnnkit_batch_size_sum{model="a"} 10.0\n'
        'cnnkit_batch_size_count{model="b"} 7.0\n'
        'cnnkit_compute_seconds_count{model="a"} 4.0\n'
        'cnnkit_compute_seconds_sum{model="a"} 0.2\n'
    )
    before = parse_totals("", "a")
    split = parse_totals(text, "a").minus(before)
    assert split.batches == 4 and split.mean_batch == 2.5
    assert split.compute_ms == pytest.approx(50.0)
    assert split.queue_wait_ms is None
