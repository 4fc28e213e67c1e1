"""Proof from outside Python: Node.js with onnxruntime-node from npm runs the self-contained
file on raw uint8 pixels the test writes and gets `cnnkit infer`'s labels.

onnxruntime-node is installed once into $CNNKIT_HOME/node (~/.cache/cnnkit/node), with
its optional CUDA download skipped; later runs reuse it (about a second). Skipped, with the
reason, where node or npm is missing or npm cannot reach its registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import portalocker
import pytest

from toolkit.data import split_arrays
from toolkit.export import EdgeOptions, ExportOptions, export_edge
from toolkit.runtime import Predictor

ORT_NODE = "onnxruntime-node@1.31.1"
CONSUMER = Path(__file__).parent / "node" / "consumer.js"


def node_cache() -> Path:
    """Where onnxruntime-node is installed once: $CNNKIT_HOME/node, else ~/.cache/cnnkit/node."""
    home = os.environ.get("CNNKIT_HOME") or Path.home() / ".cache" / "cnnkit"
    return Path(home) / "node" / ORT_NODE.replace("@", "-")


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """node_modules holding onnxruntime-node (npm-installed on first use, under a lock)."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not on PATH: the Node.js proof needs both")
    folder = node_cache()
    folder.mkdir(parents=True, exist_ok=True)
    with portalocker.Lock(str(folder) + ".lock", timeout=900):
        if not (folder / "node_modules" / "onnxruntime-node" / "package.json").is_file():
            (folder / "package.json").write_text('{"private": true}\n')
            result = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", ORT_NODE],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=600,
                env={**os.environ, "ONNXRUNTIME_NODE_INSTALL": "skip"},  # no CUDA download
            )
            if result.returncode != 0:
                last = (result.stderr.strip().splitlines() or ["no output"])[-1]
                pytest.skip(f"npm install {ORT_NODE} failed (offline?): {last}")
    return folder / "node_modules"


def test_node_gets_infers_labels_from_raw_pixels(node_modules, lenet_export, tmp_path):
    model = tmp_path / "lenet.self-contained.onnx"
    options = ExportOptions(quiet=True, edge=EdgeOptions(embed_preprocess=True))
    export_edge(lenet_export.path, model, options)
    images = np.asarray(split_arrays("digits", "test", (1, 32, 32), 0)[0])[:24]
    (tmp_path / "pixels.bin").write_bytes(images.tobytes())
    result = subprocess.run(
        ["node", str(CONSUMER), str(model), "pixels.bin", *map(str, images.shape)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(node_modules)},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    rows = Predictor(lenet_export.path, quiet=True).predict(list(images[..., 0]))
    assert answer["outputs"] == ["probs", "label"]
    assert answer["label"] == [int(row["label"]) for row in rows]
    probs = np.array(answer["probs"]).reshape(len(images), -1)
    assert np.allclose(probs.max(1), [row["score"] for row in rows], atol=1e-5)
