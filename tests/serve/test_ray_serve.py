"""`cnnkit serve --engine ray`: a Ray Serve deployment on a local Ray answers infer's rows."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess

import httpx
import pytest

from tests.helpers.serve import CNNKIT, assert_one_json_error, infer_rows, post_all
from toolkit.serve.config import announced_url, read_announcement

pytest.importorskip("ray.serve")


def free_port() -> int:
    """A port free on 127.0.0.1 right now (Ray Serve cannot bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_ray_serve_deployment_answers_infers_rows(lenet_onnx, digits_pngs, tmp_path):
    pngs = digits_pngs[:24]
    expected = infer_rows(lenet_onnx, pngs, tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [str(CNNKIT), "serve", str(lenet_onnx), "--engine", "ray", "--replicas", "2"]
        + ["--port", str(port), "--max-batch", "8", "--threads", "1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    try:
        url = f"{announced_url(read_announcement(process.stderr))}/v1/models/lenet"
        info = httpx.get(url, timeout=60).json()
        requests = [(str(p), p.read_bytes()) for p in pngs]
        responses = asyncio.run(post_all(f"{url}/predict", requests))
        bad = httpx.post(f"{url}/predict", content=b"junk", timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=180)
        process.stderr.close()
    assert info["engine"] == "ray" and info["batching"]["replicas"] == 2
    for (key, _), response in zip(requests, responses, strict=True):
        assert response.status_code == 200, response.text
        assert response.json() == expected[key]
    assert_one_json_error(bad, 400, "not an image")
    assert code == 0
