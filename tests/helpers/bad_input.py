"""Test helpers for tests/bad_input/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import struct
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import _get_all_tensors, uses_external_data
from PIL import Image

from tests.helpers.cli import assert_one_line_error
from tests.helpers.runtime import COLOUR_CLASSES, colour_segmenter, plain_meta
from toolkit.meta import ModelMeta
from toolkit.onnxfile import write_metadata

TALLY: Counter = Counter()  # what the bad-input suite proved, for its terminal summary


def one_line(result, *needles: str) -> None:
    """assert_one_line_error, counted: exit 2, one `error:` line naming the problem."""
    assert_one_line_error(result, *needles)
    TALLY["one_line"] += 1


def strict_rows(results: Path, expected: int | None = None) -> list[dict]:
    """results.jsonl read as strict JSON in UTF-8 (no NaN tokens); rows counted against inputs."""

    def refuse(token):
        raise AssertionError(f"{results}: non-standard JSON token {token}")

    text = results.read_bytes().decode("utf-8")  # raises on bytes that are not UTF-8
    rows = [json.loads(line, parse_constant=refuse) for line in text.splitlines()]
    if expected is not None:
        TALLY["rows_expected"] += expected
        TALLY["rows_written"] += len(rows)
        assert len(rows) == expected, (len(rows), expected)
    return rows


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder`, by relative path: compare before and after."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG that declares width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def graph_model(node, input_shape, output_shape, weight: np.ndarray) -> onnx.ModelProto:
    """A one-node opset-17 model: input -> node(input, w) -> logits."""
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def rank2_model() -> onnx.ModelProto:
    """A model whose input is [N, 1024] (a flattened MLP), not the NCHW images infer needs."""
    node = helper.make_node("MatMul", ["input", "w"], ["logits"])
    return graph_model(node, ["N", 1024], ["N", 10], np.ones((1024, 10), np.float32))


def segmenter() -> onnx.ModelProto:
    """A 1x1-conv RGB segmenter with cnnkit metadata: class = strongest channel."""
    proto = colour_segmenter()
    meta = plain_meta("segmentation", COLOUR_CLASSES, [3, 8, 8], "colour")
    write_metadata(proto, ModelMeta.from_dict(meta))
    return proto


def with_external_data(model: Path, folder: Path, location: str) -> Path:
    """A copy of `model` in `folder` whose weights live in external data at `location`."""
    folder.mkdir(parents=True)
    proto = onnx.load(str(model))
    onnx.save_model(
        proto,
        str(folder / "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.data",
    )
    target = (folder / location).resolve()
    shutil.move(folder / "weights.data", target)
    proto = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    for tensor in _get_all_tensors(proto):
        if uses_external_data(tensor):
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location  # onnx refuses to write this; an attacker would not
    (folder / "model.onnx").write_bytes(proto.SerializeToString())
    return folder / "model.onnx"


class Evil:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_images(root: Path) -> dict[str, Path]:
    """Good, zero-byte, truncated, fake and bomb images, and folders of them."""
    good = root / "good.png"
    Image.fromarray(np.arange(400, dtype=np.uint8).reshape(20, 20)).save(good)
    data = good.read_bytes()
    (root / "images").mkdir()
    shutil.copy(good, root / "images" / "good.png")
    (root / "junk").mkdir()
    (root / "junk" / "notes.png").write_text("these are notes, not pixels\n")
    (root / "empty").mkdir()
    (root / "bombs").mkdir()
    (root / "bombs" / "bomb.png").write_bytes(png_header(60_000, 60_000))
    (root / "tall.png").write_bytes(png_header(100_000, 1_000))  # Pillow only warns here
    files = {
        "good": good,
        "zero": root / "zero.png",
        "truncated": root / "truncated.png",
        "fake": root / "junk" / "notes.png",
        "bomb": root / "bombs" / "bomb.png",
        "tall": root / "tall.png",
        "empty": root / "empty",
    }
    files["zero"].write_bytes(b"")
    files["truncated"].write_bytes(data[: len(data) // 2])
    return files


def write_checkpoints(root: Path, run: Path) -> dict[str, Path]:
    """Foreign, mismatched and malicious .pt files beside a real run."""
    real = torch.load(run / "best.pt", weights_only=True)
    other = dict(real, model="alexnet")  # lenet weights under another model's name
    torch.save(other, root / "other-model.pt")
    misfit = dict(real, state_dict={k: torch.zeros(1) for k in real["state_dict"]})
    torch.save(misfit, root / "misfit.pt")  # a cnnkit checkpoint no tensor of which fits
    (root / "misfit-run").mkdir()  # a run folder whose last.pt is not its model's
    shutil.copy(run / "config.json", root / "misfit-run" / "config.json")
    torch.save(dict(misfit, epoch=1), root / "misfit-run" / "last.pt")
    torch.save({"weights": torch.zeros(3)}, root / "plain-dict.pt")
    torch.save(real["state_dict"], root / "state-dict.pt")  # what people often save
    marker = root / "PWNED"
    torch.save({"format": "cnnkit-checkpoint/1", "x": Evil(marker)}, root / "evil.pt")
    (root / "evil-run").mkdir()  # a run folder whose checkpoints carry code
    shutil.copy(run / "config.json", root / "evil-run" / "config.json")
    for name in ("best.pt", "last.pt"):
        torch.save({"x": Evil(marker)}, root / "evil-run" / name)
    return {
        "other": root / "other-model.pt",
        "misfit": root / "misfit.pt",
        "misfit_run": root / "misfit-run",
        "plain": root / "plain-dict.pt",
        "state_dict": root / "state-dict.pt",
        "evil": root / "evil.pt",
        "evil_run": root / "evil-run",
        "marker": marker,
    }


def with_raw_metadata(model: Path, out: Path, **values: str) -> Path:
    """A copy of `model` whose cnnkit.* metadata holds these raw JSON texts (unchecked)."""
    proto = onnx.load(str(model))
    for prop in proto.metadata_props:
        key = prop.key.removeprefix("cnnkit.")
        if key in values:
            prop.value = values[key]
    onnx.save(proto, str(out))
    return out


def damaged_run(run: Path, folder: Path, last=None, config=None) -> Path:
    """A copy of a run folder with last.pt's and config.json's fields replaced."""
    shutil.copytree(run, folder)
    if last is not None:
        checkpoint = torch.load(run / "last.pt", weights_only=True)
        checkpoint.update(last)
        checkpoint = {k: v for k, v in checkpoint.items() if v is not None}
        torch.save(checkpoint, folder / "last.pt")
    if config is not None:
        saved = json.loads((run / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**saved, **config}))
    return folder


def write_damaged(root: Path, run: Path, model: Path) -> dict[str, Path]:
    """Models with malformed metadata, checkpoints and run folders with damaged fields."""
    (root / "damaged").mkdir()
    out = root / "damaged"
    real = torch.load(run / "best.pt", weights_only=True)
    checkpoints = {
        "args_text": {"model_args": "in_channels=1"},
        "classes_huge": {"model_args": {**real["model_args"], "num_classes": 1e10}},
        "size_huge": {"input_size": [1, 1e5, 1e5]},
        "mean_nan": {"mean": [float("nan")]},
    }
    paths = {}
    for name, change in checkpoints.items():
        paths[f"pt_{name}"] = out / f"{name}.pt"
        torch.save({**real, **change}, paths[f"pt_{name}"])
    paths["raw_pickle"] = out / "raw-pickle.pt"
    with paths["raw_pickle"].open("wb") as handle:  # pickle.dump, not torch.save
        pickle.dump({"format": "cnnkit-checkpoint/1", "epoch": 1}, handle, protocol=4)
    metadata = {"classes": "5", "input_size": '"xyz"', "mean": "[[0.1]]"}
    for key, text in metadata.items():
        paths[f"meta_{key}"] = with_raw_metadata(model, out / f"meta-{key}.onnx", **{key: text})
    onnx.save(segmenter(), str(out / "dynamic.onnx"))  # H and W not fixed by the graph
    paths["meta_huge"] = with_raw_metadata(
        out / "dynamic.onnx", out / "meta-huge.onnx", input_size="[3,40000,40000]"
    )
    paths["run_no_optimizer"] = damaged_run(run, out / "no-optimizer", last={"optimizer": None})
    paths["run_bad_rng"] = damaged_run(run, out / "bad-rng", last={"rng": {"torch": 3}})
    paths["run_bad_epoch"] = damaged_run(run, out / "bad-epoch", last={"epoch": "two"})
    paths["run_bad_config"] = damaged_run(run, out / "bad-config", config={"batch_size": "abc"})
    paths["results_folder"] = out / "results-folder"
    (paths["results_folder"] / "results.jsonl").mkdir(parents=True)
    return paths


def colour_images(root: Path) -> list[Path]:
    """Images whose names try to escape or collide: same stems, dots, odd characters."""
    paths = [
        root / "a" / "img.png",
        root / "b" / "img.png",
        root / "a" / "..png",
        root / "a" / "..hidden..png",
        root / "a" / "name with spaces & $(x).png",
        root / "deep" / "x" / "y" / "img.png",
    ]
    for i, path in enumerate(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.zeros((6, 5, 3), np.uint8)
        pixels[..., i % 3] = 200
        Image.fromarray(pixels).save(path, format="PNG")
    return paths
