"""serve takes infer's flags from the same option group: --decode, --outputs, --output,
--layout, --topk, --input-size; a served row equals infer's row under the same flags."""

from __future__ import annotations

import json
import subprocess

import click
import httpx
import numpy as np
from PIL import Image

from tests.helpers.cli import CNNKIT

FLAGS = ["--decode", "full", "--outputs", "logits", "--output", "logits", "--layout", "NCHW"]


def test_served_row_with_decode_full_equals_infers(serve, lenet_onnx, tmp_path):
    pixels = np.random.default_rng(3).integers(0, 256, (180, 240, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.jpg", quality=90)
    infer = subprocess.run(
        [str(CNNKIT), "infer", str(lenet_onnx), "photo.jpg", "-o", "preds", *FLAGS, "--topk", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert infer.returncode == 0, infer.stderr
    expected = json.loads((tmp_path / "preds" / "results.jsonl").read_text())
    with serve(lenet_onnx, *FLAGS, "--topk", "3", "--input-size", "1,32,32") as server:
        body = (tmp_path / "photo.jpg").read_bytes()
        url = f"{server.url}/v1/models/lenet/predict?key=photo.jpg"
        served = httpx.post(url, content=body, timeout=60).json()
    assert len(served["topk"]) == 3
    assert served == {**expected, "path": "photo.jpg"}


def test_served_sessions_do_not_spin_unless_asked(lenet_onnx):
    from click.testing import CliRunner

    from toolkit.commands.options import predictor_group
    from toolkit.runtime.options import PredictorOptions
    from toolkit.serve.models import open_predictors

    @click.command()
    @predictor_group()
    def probe(options):
        click.echo(repr(options.session.spinning))

    runs = [
        CliRunner().invoke(probe, flags).output.strip() for flags in ([], ["--spin"], ["--no-spin"])
    ]
    assert runs == ["None", "True", "False"]
    (quiet,) = open_predictors(lenet_onnx, 1, PredictorOptions(), quiet=True)
    (spinning,) = open_predictors(lenet_onnx, 1, PredictorOptions.of(spinning=True), quiet=True)
    options = quiet.handle.session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert spinning.options.session.spinning is True  # onnxruntime's default: spinning
