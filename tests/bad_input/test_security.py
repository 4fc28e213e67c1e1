"""Security: nothing unpickles user code, ONNX external data stays in the model's folder,
image decoding has a pixel limit, and infer's outputs never escape --out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.bad_input import Evil, colour_images, png_header, snapshot, with_external_data
from tests.helpers.bad_input import one_line as assert_one_line_error
from tests.helpers.cli import invoke, run_cli

PICKLE_CASES = [
    ("export", "export {evil}"),
    ("export-run", "export {evil_run}"),
    ("profile", "profile {evil}"),
    ("bench", "bench {onnx} --iterations 1 --against-torch {evil}"),
    ("train-init", "train lenet --init-from {evil} --runs-dir {out}"),
    ("train-resume", "train --resume {evil_run}"),
]


def fill(args: str, world, out: Path) -> list[str]:
    """Split the case on spaces and fill in world paths and the output folder."""
    names = {key: str(value) for key, value in {**vars(world), "out": out}.items()}
    return [word.format(**names) for word in args.split()]


@pytest.mark.parametrize("args", [c[1] for c in PICKLE_CASES], ids=[c[0] for c in PICKLE_CASES])
def test_code_in_a_checkpoint_never_runs(world, tmp_path, args):
    """A pickle whose __reduce__ runs a shell command is refused; the command never runs."""
    result = invoke(*fill(args, world, tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not world.marker.exists(), "unpickling ran the checkpoint's code"


def test_code_in_a_checkpoint_is_named_by_the_real_cli(world):
    """Through the installed `cnnkit`: one line naming the file and the refusal, no marker file."""
    result = run_cli("export", world.evil, timeout=120)
    assert_one_line_error(result, "evil.pt", "refused")
    assert not world.marker.exists()


ONNX_READERS = [
    ("profile", "profile {model}"),
    ("infer", "infer {model} {good} -o {out}"),
    ("bench", "bench {model} --iterations 1"),
    ("quantize", "quantize {model} --calib-dir {root}/images"),
]


@pytest.mark.parametrize("model", ["escape", "absolute", "linked"])
@pytest.mark.parametrize("args", [c[1] for c in ONNX_READERS], ids=[c[0] for c in ONNX_READERS])
def test_external_data_outside_the_model_folder_is_refused(world, tmp_path, args, model):
    """Weights at ../outside.data, an absolute path or through a link leading out: refused."""
    words = [w.replace("{model}", str(getattr(world, model))) for w in args.split()]
    result = invoke(*fill(" ".join(words), world, tmp_path / "out"))
    assert_one_line_error(result, "outside the model's folder")
    assert not (tmp_path / "out" / "results.jsonl").exists()


def test_external_data_is_refused_by_the_real_cli(world, tmp_path):
    """The same refusal through the installed `cnnkit infer`."""
    result = run_cli("infer", world.escape, world.good, "-o", tmp_path, timeout=120)
    assert_one_line_error(result, "../outside.data", "refused")


def test_external_data_inside_the_folder_still_works(world, tmp_path):
    """The guard is not a ban: weights in a file beside the model load as before."""
    model = with_external_data(world.onnx, tmp_path / "inside", "weights.data")
    result = invoke("infer", model, world.good, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr


def test_a_bomb_header_is_refused_before_decoding(world, tmp_path):
    """A PNG declaring 60000x60000 pixels is that input's error row, named as a bomb."""
    result = invoke("infer", world.onnx, world.bomb, world.good, "-o", tmp_path)
    assert result.returncode == 1, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [row["status"] for row in rows] == ["error", "ok"]
    assert "decompression bomb" in rows[0]["error"] and "3600000000 pixels" in rows[0]["error"]


def test_max_pixels_lowers_the_limit(world, tmp_path):
    """--max-pixels 100 refuses the 20x20 image (400 pixels) with the same guard."""
    result = invoke("infer", world.onnx, world.good, "-o", tmp_path, "--max-pixels", "100")
    assert result.returncode == 1, result.stderr
    row = json.loads((tmp_path / "results.jsonl").read_text())
    assert "400 pixels is over the limit of 100" in row["error"]


def test_a_bomb_under_twice_the_limit_is_refused_too(world, tmp_path):
    """Pillow only warns between 1x and 2x its limit; cnnkit's own guard refuses there."""
    tall = tmp_path / "tall.png"
    tall.write_bytes(png_header(100_000, 1_000))  # 1e8 pixels: over 89.5M, under 2x
    result = invoke("infer", world.onnx, tall, "-o", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    row = json.loads((tmp_path / "out" / "results.jsonl").read_text())
    assert "100,000,000 pixels is over the limit" in row["error"]


def test_training_folders_skip_bombs(tmp_path):
    """train --data folder: decodes with the same guard; bombs are skipped and named."""
    for name, (width, height) in {"a": (100_000, 1_000), "b": (60_000, 60_000)}.items():
        (tmp_path / "data" / name).mkdir(parents=True)
        (tmp_path / "data" / name / "bomb.png").write_bytes(png_header(width, height))
    result = invoke(
        "train", "lenet", "--data", f"folder:{tmp_path / 'data'}", "--runs-dir", tmp_path
    )
    assert_one_line_error(result, "no readable images")
    assert "skipped" in result.stderr and "bomb.png" in result.stderr


def test_npy_files_are_never_unpickled(world, tmp_path):
    """An object .npy (a pickle inside) is that input's error row; its code never runs."""
    evil = tmp_path / "evil.npy"
    np.save(evil, np.array([Evil(world.marker)], dtype=object), allow_pickle=True)
    result = invoke("infer", world.onnx, evil, world.good, "-o", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").open()]
    assert [row["status"] for row in rows] == ["error", "ok"]
    assert "Python objects" in rows[0]["error"]
    assert not world.marker.exists()


def test_masks_replace_planted_links_not_their_targets(world, tmp_path):
    """A link planted at OUT/masks/x.png is replaced; the file it pointed to is untouched."""
    image = colour_images(tmp_path / "in")[0]
    precious = tmp_path / "precious.png"
    precious.write_bytes(b"not yours to overwrite")
    out = tmp_path / "out"
    for folder in ("masks", "overlays"):
        (out / folder).mkdir(parents=True)
        (out / folder / "img.png").symlink_to(precious)
    result = invoke("infer", world.seg, image, "-o", out, "--overlay")
    assert result.returncode == 0, result.stderr
    assert precious.read_bytes() == b"not yours to overwrite"
    assert not (out / "masks" / "img.png").is_symlink()
    assert Image.open(out / "masks" / "img.png").size == (5, 6)


def test_masks_never_escape_out(world, tmp_path):
    """Relative, absolute and `..` input paths: every mask and overlay lands inside --out."""
    images = colour_images(tmp_path / "in")
    listing = tmp_path / "in" / "a" / "list.txt"
    listing.write_text("../b/img.png\n../deep/x/y/img.png\n")
    before = snapshot(tmp_path / "in")
    out = tmp_path / "in" / "a" / "out"
    inputs = [str(p) for p in images] + [str(listing), "../b/img.png"]
    result = run_cli(
        "infer", world.seg, *inputs, "-o", out, "--overlay", cwd=tmp_path / "in" / "a", timeout=120
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    masks = [row["mask"] for row in rows]
    assert len(set(masks)) == len(masks)  # same stems from different folders do not collide
    for mask in masks:
        assert not Path(mask).is_absolute() and ".." not in Path(mask).parts
        assert (out / mask).resolve().is_relative_to(out.resolve())
    written = {p.resolve() for p in out.rglob("*") if p.is_file()}
    assert all(p.is_relative_to(out.resolve()) for p in written)
    assert len([p for p in written if p.parent.name == "overlays"]) == len(masks)
    # Nothing appeared or changed beside the inputs (out/ itself aside).
    after = {k: v for k, v in snapshot(tmp_path / "in").items() if not k.startswith("a/out/")}
    assert after == before


def test_results_files_never_follow_planted_links(world, tmp_path):
    """A link at OUT/results.jsonl is refused; one at OUT/results.csv is replaced."""
    precious = tmp_path / "precious.txt"
    precious.write_text("not yours to overwrite")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl").symlink_to(tmp_path / "elsewhere.jsonl")  # dangling on purpose
    result = invoke("infer", world.onnx, world.good, "-o", out)
    assert_one_line_error(result, "results.jsonl", "link")
    assert not (tmp_path / "elsewhere.jsonl").exists()
    (out / "results.jsonl").unlink()
    (out / "results.csv").symlink_to(precious)
    assert invoke("infer", world.onnx, world.good, "-o", out, "--csv").returncode == 0
    assert precious.read_text() == "not yours to overwrite"
    assert not (out / "results.csv").is_symlink()
    assert (out / "results.csv").read_text().startswith("path,status")
