"""The batch runner: rows in order, bad files reported, resume, masks, fixed batches."""

from __future__ import annotations

import json
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tests.helpers.runtime import solid, write_pngs
from toolkit.errors import CnnkitError
from toolkit.runtime import Predictor, run_inference


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def png_header_only(width: int, height: int) -> bytes:
    """A small PNG whose header declares width x height (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_classification_rows_in_input_order_with_csv(lenet_onnx, tmp_path):
    paths = write_pngs(tmp_path / "imgs", 11)
    summary = run_inference(
        lenet_onnx,
        [tmp_path / "imgs"],
        tmp_path / "out",
        batch_size=4,
        topk=3,
        csv=True,
        quiet=True,
    )
    assert (summary.count, summary.ok, summary.failed) == (11, 11, 0)
    assert summary.provider == "CPUExecutionProvider" and summary.images_per_s > 0
    rows = read_jsonl(tmp_path / "out" / "results.jsonl")
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    first = rows[0]
    assert list(first) == ["path", "status", "label", "score", "topk", "error"]
    assert first["status"] == "ok" and first["error"] is None and len(first["topk"]) == 3
    assert first["label"] == first["topk"][0]["label"] and first["label"] in "0123456789"
    probs = [t["prob"] for t in first["topk"]]
    assert probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1
    csv_lines = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert csv_lines[0] == "path,status,label,score,error" and len(csv_lines) == 12
    direct = Predictor(lenet_onnx, topk=3, quiet=True).predict([str(p) for p in paths])
    assert direct == rows


def test_bad_input_corpus_every_bad_file_reported(lenet_onnx, tmp_path):
    corpus = tmp_path / "corpus"
    good = write_pngs(corpus, 3)
    bad = {
        "zero.png": b"",
        "text.jpg": b"this is not a jpeg",
        "huge.png": png_header_only(100_000, 100_000),
    }
    for name, data in bad.items():
        (corpus / name).write_bytes(data)
    truncated = (corpus / "img000.png").read_bytes()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64), np.uint8)).save(
        corpus / "full.png"
    )
    (corpus / "truncated.png").write_bytes((corpus / "full.png").read_bytes()[:300])
    (corpus / "full.png").unlink()
    Image.fromarray(np.full((6, 6), 40000, np.uint16)).save(corpus / "deep16.png")
    Image.new("CMYK", (9, 7), (0, 50, 100, 0)).save(corpus / "cmyk.jpg")
    Image.new("L", (1, 1), 200).save(corpus / "tiny.png")
    Image.new("RGBA", (12, 12), (10, 200, 30, 128)).save(corpus / "alpha.png")
    bad_names = set(bad) | {"truncated.png", "unreadable.png"}
    unreadable = corpus / "unreadable.png"
    if os.geteuid() == 0:  # root reads chmod-000 files: use a dangling link instead
        unreadable.symlink_to(tmp_path / "gone.png")
    else:
        unreadable.write_bytes(truncated)
        unreadable.chmod(0)
    summary = run_inference(lenet_onnx, [corpus], tmp_path / "out", batch_size=4, quiet=True)
    rows = {os.path.basename(r["path"]): r for r in read_jsonl(tmp_path / "out" / "results.jsonl")}
    assert {n for n, r in rows.items() if r["status"] == "error"} == bad_names
    ok = {n for n, r in rows.items() if r["status"] == "ok"}
    assert ok == {p.name for p in good} | {"deep16.png", "cmyk.jpg", "tiny.png", "alpha.png"}
    assert summary.failed == len(bad_names) and summary.ok == len(ok)
    assert "empty" in rows["zero.png"]["error"]
    assert "not an image" in rows["text.jpg"]["error"]
    assert "bomb" in rows["huge.png"]["error"]
    assert "truncated" in rows["truncated.png"]["error"]
    assert rows["unreadable.png"]["error"]


def test_resume_repairs_a_partial_line_and_finishes_the_rest(lenet_onnx, tmp_path):
    write_pngs(tmp_path / "imgs", 10)
    fresh = tmp_path / "fresh"
    run_inference(lenet_onnx, [tmp_path / "imgs"], fresh, batch_size=3, quiet=True)
    with pytest.raises(CnnkitError, match="--resume"):
        run_inference(lenet_onnx, [tmp_path / "imgs"], fresh, quiet=True)
    lines = (fresh / "results.jsonl").read_text().splitlines(keepends=True)
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    (crashed / "results.jsonl").write_text("".join(lines[:4]) + lines[4][:25])
    summary = run_inference(
        lenet_onnx, [tmp_path / "imgs"], crashed, batch_size=3, resume=True, quiet=True
    )
    assert summary.resumed == 4 and summary.count == 10 and summary.ok == 10
    assert (crashed / "results.jsonl").read_text() == "".join(lines)


def test_segmentation_masks_overlays_and_class_pixels(seg_onnx, tmp_path):
    for folder, colour in (("a", (250, 10, 10)), ("b", (10, 10, 250))):
        (tmp_path / folder).mkdir()
        solid(colour, size=(10, 8)).save(tmp_path / folder / "same.png")
    half = Image.new("RGB", (20, 6), (0, 255, 0))
    half.paste((255, 0, 0), (0, 0, 10, 6))
    half.save(tmp_path / "a" / "half.png")
    summary = run_inference(
        seg_onnx, [tmp_path / "a", tmp_path / "b"], tmp_path / "out", overlay=True, quiet=True
    )
    assert summary.ok == 3 and summary.masks == str(tmp_path / "out" / "masks")
    rows = read_jsonl(tmp_path / "out" / "results.jsonl")
    assert list(rows[0]) == ["path", "status", "label", "score", "mask", "class_pixels", "error"]
    by_path = {r["path"]: r for r in rows}
    red = by_path[str(tmp_path / "a" / "same.png")]
    blue = by_path[str(tmp_path / "b" / "same.png")]
    assert red["mask"] != blue["mask"]  # same stem, different folders
    assert red["class_pixels"] == {"red": 80, "green": 0, "blue": 0}
    assert blue["label"] == "blue" and blue["score"] == 1.0
    halves = by_path[str(tmp_path / "a" / "half.png")]
    mask = np.asarray(Image.open(tmp_path / "out" / halves["mask"]))
    assert mask.shape == (6, 20)  # the original size, not the model's 16x16
    assert mask[0, 0] == 0 and mask[0, 19] == 1
    overlays = sorted(p.name for p in (tmp_path / "out" / "overlays").iterdir())
    assert len(overlays) == 3 and all(name.endswith(".png") for name in overlays)


def test_foreign_fixed_batch_model_with_flags(foreign_onnx, tmp_path, capsys):
    for i, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)] * 2 + [(0, 0, 255)]):
        solid(colour).save(tmp_path / f"c{i}.png")
    labels = tmp_path / "labels.txt"
    labels.write_text("red\ngreen\nblue\n")
    summary = run_inference(
        foreign_onnx, [tmp_path], tmp_path / "out", batch_size=3, labels=labels, quiet=False
    )
    assert summary.ok == 7
    rows = read_jsonl(tmp_path / "out" / "results.jsonl")
    assert [r["label"] for r in rows] == ["red", "green", "blue", "red", "green", "blue", "blue"]
    err = capsys.readouterr().err
    assert "no cnnkit metadata" in err and "3x16x16" in err and "--labels" not in err


def test_npy_inputs_match_image_inputs(lenet_onnx, tmp_path):
    paths = write_pngs(tmp_path / "imgs", 3, size=(8, 8))
    pixels = np.stack([np.asarray(Image.open(p)) for p in paths])
    np.save(tmp_path / "stack.npy", pixels)
    predictor = Predictor(lenet_onnx, quiet=True)
    from_files = predictor.predict([str(p) for p in paths])
    summary = run_inference(lenet_onnx, [tmp_path / "stack.npy"], tmp_path / "out", quiet=True)
    from_npy = read_jsonl(tmp_path / "out" / "results.jsonl")
    assert summary.ok == 3
    assert [r["topk"] for r in from_npy] == [r["topk"] for r in from_files]
    tensors = np.stack([predictor.decode(p).array for p in paths])
    assert [r["topk"] for r in predictor.predict(list(tensors))] == [r["topk"] for r in from_files]
