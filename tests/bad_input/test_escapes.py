"""Nothing escapes: planted links, inputs that are not files, arrays past the pixel limit.

Every output file or folder is written in place (never through a link planted there),
every input kind obeys the pixel limit, and a FIFO is an error row, never opened.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import numpy as np
import pytest

from tests.helpers.bad_input import colour_images, one_line, strict_rows
from tests.helpers.cli import invoke, run_cli


def test_bench_json_replaces_a_planted_link(world, tmp_path):
    """bench.json in a run folder is replaced when it is a link; its target is untouched."""
    run = tmp_path / "run"
    shutil.copytree(world.run, run)
    precious = tmp_path / "precious.json"
    precious.write_text("not yours to overwrite")
    (run / "bench.json").unlink()
    (run / "bench.json").symlink_to(precious)
    result = invoke("bench", run / "model.onnx", "--iterations", "2", "--warmup", "1")
    assert result.returncode == 0, result.stderr
    assert precious.read_text() == "not yours to overwrite"
    assert not (run / "bench.json").is_symlink()
    assert json.loads((run / "bench.json").read_text())[0]["batch"] >= 1


@pytest.mark.parametrize("folder", ["masks", "overlays"])
def test_masks_never_go_through_a_planted_folder_link(world, tmp_path, folder):
    """OUT/masks (or overlays) planted as a link to a folder outside: refused, nothing there."""
    image = colour_images(tmp_path / "in")[0]
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / folder).symlink_to(outside, target_is_directory=True)
    result = invoke("infer", world.seg, image, "-o", out, "--overlay")
    one_line(result, folder, "link")
    assert list(outside.iterdir()) == []


def test_uint8_arrays_obey_the_pixel_limit(world, tmp_path):
    """A sparse 20000x20000 uint8 .npy with --max-pixels 1000: an error row, never decoded."""
    big = tmp_path / "big.npy"
    np.lib.format.open_memmap(big, mode="w+", dtype=np.uint8, shape=(20_000, 20_000)).flush()
    wide = tmp_path / "empty-wide.npy"
    np.save(wide, np.zeros((8, 0), np.uint8))
    out = tmp_path / "out"
    result = invoke("infer", world.onnx, big, wide, world.good, "-o", out, "--max-pixels", "1000")
    assert result.returncode == 1, result.stderr
    rows = strict_rows(out / "results.jsonl", expected=3)
    assert "over the limit of 1,000" in rows[0]["error"]
    assert rows[1]["status"] == "error" and "no values" in rows[1]["error"]
    assert rows[2]["status"] == "ok"


def test_an_npy_with_a_huge_leading_dim_is_one_error_row(world, tmp_path):
    """(2000000, 2, 2) uint8 (8 MB) does not expand into two million inputs."""
    many = tmp_path / "many.npy"
    np.save(many, np.zeros((2_000_000, 2, 2), np.uint8))
    out = tmp_path / "out"
    result = invoke("infer", world.onnx, many, "-o", out)
    assert result.returncode == 1, result.stderr
    rows = strict_rows(out / "results.jsonl", expected=1)
    assert rows[0]["path"] == str(many) and rows[0]["status"] == "error"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_among_the_inputs_is_an_error_row(world, tmp_path):
    """A FIFO named like an image (and one like an array) is never opened: error rows."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(world.good, folder / "a.png")
    os.mkfifo(folder / "b.png")
    os.mkfifo(folder / "c.npy")
    result = run_cli("infer", world.onnx, folder, "-o", tmp_path / "out", timeout=60)
    assert result.returncode == 1, result.stderr
    rows = strict_rows(tmp_path / "out" / "results.jsonl", expected=3)
    assert [row["status"] for row in rows] == ["ok", "error", "error"]
    assert all("FIFO" in row["error"] for row in rows[1:])
    assert stat.S_ISFIFO(os.stat(folder / "b.png").st_mode)


def test_out_inside_the_input_folder_never_reads_its_own_masks(world, tmp_path):
    """--out under the input folder: masks written there are not new inputs on --resume."""
    images = colour_images(tmp_path / "in")
    out = tmp_path / "in" / "out"
    first = invoke("infer", world.seg, tmp_path / "in", "-o", out, "--overlay")
    assert first.returncode == 0, first.stderr
    again = invoke("infer", world.seg, tmp_path / "in", "-o", out, "--resume")
    assert again.returncode == 0, again.stderr
    strict_rows(out / "results.jsonl", expected=len(images))


def test_a_bad_npy_is_one_error_row(world, tmp_path):
    """Truncated, object, 0-d, 5-D and bool arrays: one error row each, the run goes on."""
    arrays = {
        "zero-d": np.float32(1.0),
        "five-d": np.zeros((1, 1, 1, 32, 32), np.float32),
        "bool": np.zeros((1, 32, 32), bool),
    }
    paths = []
    for name, array in arrays.items():
        paths.append(tmp_path / f"{name}.npy")
        np.save(paths[-1], array)
    paths.append(tmp_path / "object.npy")
    np.save(paths[-1], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    full = tmp_path / "full.npy"
    np.save(full, np.zeros((4, 1, 32, 32), np.float32))
    paths.append(tmp_path / "truncated.npy")
    paths[-1].write_bytes(full.read_bytes()[:300])
    out = tmp_path / "out"
    result = invoke("infer", world.onnx, *paths, world.good, "-o", out)
    assert result.returncode == 1, result.stderr
    rows = strict_rows(out / "results.jsonl", expected=len(paths) + 1)
    assert [row["path"] for row in rows[:-1]] == [str(p) for p in paths]
    assert all(row["status"] == "error" and row["error"] for row in rows[:-1])
    assert rows[-1]["status"] == "ok"


def test_threads_are_bounded(world, tmp_path):
    """--threads far past the cores is one line, not a crash or a hang (the real CLI)."""
    result = run_cli(
        "infer", world.onnx, world.good, "-o", tmp_path / "o", "--threads", "100000", timeout=60
    )
    one_line(result, "--threads", "at most")
