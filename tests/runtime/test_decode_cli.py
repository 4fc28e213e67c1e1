"""`cnnkit infer --decode/--workers` through the installed console script, outside the repo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.helpers.cli import assert_one_line_error
from tests.helpers.e2e import cnnkit


def write_jpegs(folder: Path, count: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        small = rng.integers(0, 256, (6, 8), dtype=np.uint8)
        big = Image.fromarray(small).resize((1024, 768), Image.Resampling.BICUBIC)
        big.save(folder / f"photo{i}.jpg", quality=90)


def test_fast_and_full_decoding_agree_and_report_the_split(lenet_onnx, tmp_path):
    write_jpegs(tmp_path / "photos", 4)
    runs = {}
    for mode in ("fast", "full"):
        result = cnnkit(
            "infer", lenet_onnx, "photos", "--out", f"out-{mode}", "--decode", mode,
            "--workers", "auto", "--json", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["split"]["decode"] == mode and summary["split"]["workers"] >= 1
        assert summary["split"]["decode_ms_per_image"] > 0
        rows = (tmp_path / f"out-{mode}" / "results.jsonl").read_text().splitlines()
        runs[mode] = [json.loads(row)["label"] for row in rows]
    assert runs["fast"] == runs["full"]
    human = cnnkit("infer", lenet_onnx, "photos", "--out", "out-h", "--workers", "2", cwd=tmp_path)
    assert human.returncode == 0, human.stderr
    assert "ms/image (2 workers, fast)" in human.stdout and "ms/batch" in human.stdout


def test_bad_decode_and_workers_flags(lenet_onnx, tmp_path):
    write_jpegs(tmp_path / "photos", 1)
    bad = cnnkit("infer", lenet_onnx, "photos", "--out", "o", "--workers", "lots", cwd=tmp_path)
    assert_one_line_error(bad, "--workers")
    mode = cnnkit("infer", lenet_onnx, "photos", "--out", "o", "--decode", "half", cwd=tmp_path)
    assert mode.returncode == 2 and "--decode" in mode.stderr
