"""The foreign-model corpus: every file goes through inspect / infer / profile / bench (and
quantize for the float32 ones) with infer's answer equal to a bare onnxruntime session on the
same tensor, preprocessed here by hand (Pillow BILINEAR, /255, ImageNet mean/std, layout)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from tests.helpers.runtime import write_images
from tests.runtime import corpus
from toolkit.bench import BenchConfig, run_bench
from toolkit.errors import CnnkitError
from toolkit.profile import profile_onnx
from toolkit.runtime import run_inference
from toolkit.runtime.inspection import inspect_model
from toolkit.runtime.preprocess import SpecFlags

IMAGENET = (np.float32([0.485, 0.456, 0.406]), np.float32([0.229, 0.224, 0.225]))
TINY = {"warmup": 1, "iterations": 2, "threads": (1,), "gflops": False, "quiet": True}
NAMES = [entry.name for entry in corpus.ENTRIES]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The corpus on disk."""
    return corpus.build(tmp_path_factory.mktemp("corpus"))


def entry_of(name: str) -> corpus.Entry:
    return next(e for e in corpus.ENTRIES if e.name == name)


def options(entry: corpus.Entry, folder: Path) -> dict:
    """The entry's infer options with --feed files made absolute."""
    opts = dict(entry.options)
    if "feeds" in opts:
        opts["feeds"] = {k: str(folder / v) for k, v in opts["feeds"].items()}
    return opts


def by_hand(path: Path, channels: int, size, layout: str, dtype: str) -> np.ndarray:
    """The model tensor for one image, computed without cnnkit."""
    img = Image.open(path).convert("L" if channels == 1 else "RGB")
    pixels = np.asarray(img.resize((size[1], size[0]), Image.Resampling.BILINEAR), np.uint8)
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
    if dtype == "uint8":
        x = pixels
    else:
        mean, std = IMAGENET if channels == 3 else (np.float32([0.0]), np.float32([1.0]))
        x = (pixels.astype(np.float32) / np.float32(255) - mean) / std
    x = x if layout == "NHWC" else x.transpose(2, 0, 1)
    return x.astype(dtype)


def bare_run(path: Path, interp, x: np.ndarray, constants: dict) -> np.ndarray:
    """One sample through a bare onnxruntime session (the fixed batch filled by repeats)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    declared = session.get_inputs()[0].shape[0]
    batch = declared if isinstance(declared, int) else 1
    feeds = {interp.image_input: np.repeat(x[None], batch, 0)}
    feeds.update({k: np.repeat(v[None], batch, 0) for k, v in constants.items()})
    return session.run([interp.output], feeds)[0][0]


@pytest.mark.parametrize("name", NAMES)
def test_inspect_states_the_assumptions(files, name):
    entry = entry_of(name)
    flags = SpecFlags(feeds=tuple(options(entry, files[name].parent).get("feeds", {}).items()))
    interp = inspect_model(files[name], flags)
    assert interp.runnable, interp.problems
    got = {
        "layout": interp.layout,
        "input_dtype": interp.input_dtype,
        "reading": interp.reading,
        "output": interp.output,
        "channels": interp.spec.channels,
        "size": interp.spec.size,
        "task": interp.spec.task,
        "raw": interp.spec.raw,
        "image_input": interp.image_input,
    }
    assert {key: got[key] for key in entry.expect} == entry.expect
    assert set(interp.reasons) >= {"layout", "size", "mean_std", "output", "reading", "labels"}
    assert interp.to_dict()["assumptions"]["reading"] == interp.reading


@pytest.mark.parametrize("name", NAMES)
def test_infer_equals_a_bare_onnxruntime_run(files, name, tmp_path):
    entry = entry_of(name)
    folder = files[name].parent
    opts = options(entry, folder)
    images = write_images(tmp_path / "images", entry.image_size)
    summary = run_inference(files[name], images, tmp_path / "out", quiet=True, batch_size=3, **opts)
    assert summary.failed == 0
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    ]
    flags = SpecFlags(size=opts.get("size"), feeds=tuple(opts.get("feeds", {}).items()))
    interp = inspect_model(files[name], flags)
    constants = {k: np.load(v) for k, v in opts.get("feeds", {}).items()}
    for path, row in zip(images, rows, strict=True):
        x = by_hand(path, interp.spec.channels, interp.spec.size, interp.layout, interp.input_dtype)
        out = bare_run(files[name], interp, x, constants)
        if interp.spec.task == "segmentation":
            mask = np.asarray(Image.open(tmp_path / "out" / row["mask"]))
            expected = out.argmax(0) if interp.reading == "segmentation-scores" else out
            assert np.array_equal(mask, expected), name
            continue
        scores = out.reshape(-1).astype(np.float64)
        probs = scores if interp.reading == "probs" else np.exp(scores - scores.max())
        probs = probs / probs.sum() if interp.reading != "probs" else probs
        assert row["label"] == str(int(scores.argmax())), name
        assert row["score"] == pytest.approx(probs.max(), abs=2e-6), name


@pytest.mark.parametrize("name", NAMES)
def test_profile_and_bench_run_or_say_why_in_one_line(files, name):
    entry = entry_of(name)
    size = entry.profile_size
    if isinstance(size, dict):  # a second input: the image size comes from the file
        size = {"image": (3, 16, 16), **size}
    profile = profile_onnx(files[name], input_size=size)
    assert profile.totals.macs > 0 and profile.inputs
    (row,) = run_bench([files[name]], BenchConfig(**TINY, input_size=size), save=False).json_value()
    assert row["p50_ms"] > 0


def test_seg300_masks_are_16_bit(files, tmp_path):
    images = write_images(tmp_path / "images", (16, 16), count=2)
    run_inference(files["seg300"], images, tmp_path / "out", size=(16, 16), quiet=True)
    mask = Image.open(next((tmp_path / "out" / "masks").iterdir()))
    assert mask.mode.startswith("I;16") and np.asarray(mask).max() > 255


def test_two_inputs_without_feed_is_one_line_and_writes_nothing(files, tmp_path):
    images = write_images(tmp_path / "images", (16, 16), count=1)
    with pytest.raises(CnnkitError, match=r"2 inputs \(image float32 .*meta float32.*--feed"):
        run_inference(files["two_inputs"], images, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_ray_engine_refuses_in_the_driver_before_making_out(files, tmp_path):
    images = write_images(tmp_path / "images", (16, 16), count=1)
    with pytest.raises(CnnkitError, match="--feed"):
        run_inference(files["two_inputs"], images, tmp_path / "out", engine="ray", quiet=True)
    assert not (tmp_path / "out").exists()


def test_outputs_flags_override_the_reading(files, tmp_path):
    images = write_images(tmp_path / "images", (16, 16), count=2)
    run_inference(files["three_outputs"], images, tmp_path / "a", output="aux2", quiet=True)
    run_inference(files["softmax"], images, tmp_path / "b", outputs="logits", quiet=True)
    aux = [json.loads(x) for x in (tmp_path / "a" / "results.jsonl").read_text().splitlines()]
    interp = inspect_model(files["three_outputs"], SpecFlags(output="aux2"))
    assert interp.output == "aux2" and "--output" in interp.reasons["output"]
    assert len(aux) == 2
    twice = [json.loads(x) for x in (tmp_path / "b" / "results.jsonl").read_text().splitlines()]
    assert all(row["score"] < 0.5 for row in twice)  # softmax of probabilities flattens them


FLOAT32 = [e.name for e in corpus.ENTRIES if e.quantize]


@pytest.mark.parametrize(
    "name", FLOAT32[:3] + [pytest.param(n, marks=pytest.mark.slow) for n in FLOAT32[3:]]
)
def test_quantize_float32_models(files, name, tmp_path):
    from toolkit.export import quantize_onnx

    images = write_images(tmp_path / "calib", entry_of(name).image_size, count=8)
    report = quantize_onnx(
        files[name], tmp_path / "q.onnx", calib_dir=images[0].parent, min_agreement=0.0, quiet=True
    )
    assert (report.calib_samples, report.eval_samples) == (6, 2)  # never compared on calib
    assert report.path.is_file() and report.fp32_bytes >= files[name].stat().st_size
