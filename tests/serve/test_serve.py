"""`cnnkit serve` end to end: a real server process, a real HTTP client (httpx)."""

from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import threading
import time

import httpx
import numpy as np
from PIL import Image

from tests.helpers.cli import assert_one_line_error
from tests.helpers.serve import CNNKIT, assert_one_json_error, infer_rows, post_all
from toolkit.runtime import Predictor
from toolkit.serve.render import from_run_length


def post(url: str, body: bytes, **kwargs) -> httpx.Response:
    """One POST with a generous timeout (the machine may be busy)."""
    return httpx.post(url, content=body, timeout=60, **kwargs)


def png_bytes(path) -> bytes:
    return path.read_bytes()


def assert_jpeg_row_equals_the_files(url: str, model, folder) -> None:
    """A large JPEG body is decoded as infer decodes the file: DCT-scaled, the same row."""
    photo = folder / "photo.jpg"
    pixels = np.random.default_rng(0).integers(0, 256, (48, 64), dtype=np.uint8)
    Image.fromarray(pixels).resize((1600, 1200)).save(photo, quality=90)
    served = post(f"{url}/v1/models/digits/predict?key={photo}", photo.read_bytes()).json()
    assert served == Predictor(model, quiet=True).predict([str(photo)])[0]


def test_every_endpoint_answers(serve, lenet_onnx, digits_pngs, tmp_path):
    with serve(f"digits={lenet_onnx}", "--max-batch", "4") as server:
        url = server.url
        assert httpx.get(f"{url}/health").json() == {"status": "live"}
        assert httpx.get(f"{url}/ready").json()["models"] == ["digits"]
        models = httpx.get(f"{url}/v1/models").json()["models"]
        assert [m["name"] for m in models] == ["digits"]
        info = httpx.get(f"{url}/v1/models/digits").json()
        assert info["task"] == "classification" and info["input_size"] == [1, 32, 32]
        assert info["classes"] == [str(i) for i in range(10)]
        assert info["provider"] == "CPUExecutionProvider"
        assert info["batching"]["max_batch"] == 4
        assert_one_json_error(httpx.get(f"{url}/v1/models/nope"), 404, "nope", "digits")

        image = png_bytes(digits_pngs[0])
        raw = post(f"{url}/v1/models/digits/predict?key=a.png", image)
        assert raw.status_code == 200 and raw.json()["path"] == "a.png"
        files = {"file": ("b.png", image, "image/png")}
        upload = httpx.post(f"{url}/v1/models/digits/predict", files=files, timeout=60)
        assert upload.json()["path"] == "b.png"
        assert {**upload.json(), "path": "a.png"} == raw.json()
        pixels = np.asarray(Image.open(digits_pngs[0]))
        buffer = io.BytesIO()
        np.save(buffer, pixels)
        tensor = post(f"{url}/v1/models/digits/predict?key=a.png", buffer.getvalue())
        assert tensor.json() == raw.json()

        metrics = httpx.get(f"{url}/metrics").text
        assert 'cnnkit_requests_total{model="digits",status="200"} 3.0' in metrics
        assert 'cnnkit_requests_total{model="digits",status="404"}' not in metrics  # no model
        for name in ("cnnkit_queue_depth", "cnnkit_batch_size_bucket"):
            assert name in metrics
        for name in ("cnnkit_queue_wait_seconds_sum", "cnnkit_compute_seconds_count"):
            assert name in metrics
        assert_jpeg_row_equals_the_files(url, lenet_onnx, tmp_path)


def test_500_concurrent_requests_each_equal_infers_row(serve, lenet_onnx, digits_pngs, tmp_path):
    pngs = [digits_pngs[i % len(digits_pngs)] for i in range(500)]
    expected = infer_rows(lenet_onnx, sorted(set(pngs)), tmp_path)
    requests = [(str(p), p.read_bytes()) for p in pngs]
    with serve(lenet_onnx, "--max-batch", "32", "--max-queue", "1000") as server:
        url = f"{server.url}/v1/models/lenet/predict"
        responses = asyncio.run(post_all(url, requests))
        metrics = httpx.get(f"{server.url}/metrics").text
    assert [r.status_code for r in responses] == [200] * 500
    for (key, _), response in zip(requests, responses, strict=True):
        assert response.json() == expected[key]
    assert 'cnnkit_requests_total{model="lenet",status="200"} 500.0' in metrics
    sizes = [line for line in metrics.splitlines() if line.startswith("cnnkit_batch_size_count")]
    assert float(sizes[0].split()[-1]) < 500  # requests were batched


def test_full_queue_answers_503_with_retry_after(serve, lenet_onnx, digits_pngs):
    image = png_bytes(digits_pngs[0])
    args = ("--max-queue", "1", "--max-batch", "64", "--max-delay-ms", "2000", "--patient")
    with serve(lenet_onnx, *args) as server:
        url = f"{server.url}/v1/models/lenet/predict"
        first: list[httpx.Response] = []
        waiting = threading.Thread(target=lambda: first.append(post(url, image)))
        waiting.start()
        time.sleep(0.8)  # the first request holds the only queue slot for 2 s
        refused = post(url, image)
        waiting.join()
    assert_one_json_error(refused, 503, "queue is full")
    assert refused.headers["retry-after"] == "1"
    assert first[0].status_code == 200


def test_oversize_body_413_bad_image_400_wrong_tensor_400(serve, lenet_onnx):
    with serve(lenet_onnx, "--max-body", "1000") as server:
        url = f"{server.url}/v1/models/lenet/predict"
        assert_one_json_error(post(url, b"x" * 2000), 413, "1,000 bytes", "--max-body")
        bad = post(f"{url}?key=cat.jpg", b"not an image at all")
        assert_one_json_error(bad, 400, "cat.jpg", "not an image")
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((3, 4, 4), dtype=np.float32))
        wrong = post(url, buffer.getvalue(), headers={"Content-Type": "application/x-npy"})
        assert_one_json_error(wrong, 400, "(3, 4, 4)", "(1, 32, 32)")
        assert httpx.get(f"{server.url}/ready").status_code == 200


def test_request_past_its_timeout_gets_504(serve, lenet_onnx, digits_pngs):
    args = ("--timeout", "0.5", "--max-delay-ms", "3000", "--max-batch", "64", "--patient")
    with serve(lenet_onnx, *args) as server:
        late = post(f"{server.url}/v1/models/lenet/predict", png_bytes(digits_pngs[0]))
    assert_one_json_error(late, 504, "0.5 s")


def test_a_failing_batch_answers_500_and_the_server_stays_up(serve, fails_on_batches_onnx):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 4, 4), dtype=np.float32))
    body = buffer.getvalue()
    args = ("--max-batch", "2", "--max-delay-ms", "2000", "--patient")
    with serve(fails_on_batches_onnx, *args) as server:
        url = f"{server.url}/v1/models/single/predict"
        both = asyncio.run(post_all(url, [("x", body), ("y", body)]))
        for response in both:
            assert_one_json_error(response, 500, "failed on this request's batch")
        alone = httpx.post(url, content=body, timeout=60)  # waits out --max-delay-ms: 2 s
        assert alone.status_code == 200 and alone.json()["status"] == "ok"
        metrics = httpx.get(f"{server.url}/metrics").text
    assert 'cnnkit_requests_total{model="single",status="500"} 2.0' in metrics


def test_sigterm_answers_every_request_in_flight_then_exits_0(serve, lenet_onnx, digits_pngs):
    requests = [(str(p), p.read_bytes()) for p in digits_pngs[:40]]
    args = ("--max-batch", "64", "--max-delay-ms", "20000", "--patient")
    with serve(lenet_onnx, *args) as server:
        url = f"{server.url}/v1/models/lenet/predict"

        async def fire_then_terminate():
            sending = asyncio.ensure_future(post_all(url, requests))
            # SIGTERM once all 40 are accepted and queued (waiting out --max-delay-ms);
            # a request not yet accepted may rightly be refused, so the test waits for it.
            queued = 'cnnkit_queue_depth{model="lenet"} 40.0'
            async with httpx.AsyncClient(timeout=60) as client:
                for _ in range(600):  # at most 30 s
                    if queued in (await client.get(f"{server.url}/metrics")).text:
                        break
                    await asyncio.sleep(0.05)
            server.process.send_signal(signal.SIGTERM)
            signalled = time.perf_counter()
            return await sending, signalled

        responses, signalled = asyncio.run(fire_then_terminate())
        code = server.process.wait(timeout=60)
        stopped_after = time.perf_counter() - signalled
    assert [r.status_code for r in responses] == [200] * len(requests)
    assert code == 0
    assert stopped_after < 10  # the queue ran at once, not after the 20 s --max-delay-ms


def test_segmentation_mask_as_run_length_json_or_png(serve, seg_onnx, tmp_path):
    colours = np.zeros((6, 9, 3), dtype=np.uint8)
    colours[:, :3, 0] = 255  # red left, green middle, blue right
    colours[:, 3:6, 1] = 255
    colours[:, 6:, 2] = 255
    buffer = io.BytesIO()
    Image.fromarray(colours).save(buffer, format="PNG")
    with serve(seg_onnx) as server:
        url = f"{server.url}/v1/models/seg/predict"
        row = post(url, buffer.getvalue()).json()
        png = post(url, buffer.getvalue(), headers={"Accept": "image/png"})
    expected = np.repeat(np.repeat([[0, 1, 2]], 3, axis=1), 6, axis=0)
    assert row["mask"]["encoding"] == "rle"
    assert (from_run_length(row["mask"]) == expected).all()
    assert row["class_pixels"] == {"red": 18, "green": 18, "blue": 18}
    assert png.headers["content-type"] == "image/png"
    assert (np.asarray(Image.open(io.BytesIO(png.content))) == expected).all()


def test_fixed_batch_model_is_padded_with_two_instances(serve, foreign_onnx):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 0, 255)).save(buffer, format="PNG")
    requests = [(f"blue{i}", buffer.getvalue()) for i in range(5)]
    with serve(foreign_onnx, "--instances", "2", "--max-batch", "3") as server:
        info = httpx.get(f"{server.url}/v1/models/foreign").json()
        responses = asyncio.run(post_all(f"{server.url}/v1/models/foreign/predict", requests))
    assert info["fixed_batch"] == 2 and info["batching"]["instances"] == 2
    assert [r.json()["label"] for r in responses] == ["2"] * 5  # batches of 1..3 padded to 2s


def test_bad_model_and_busy_port_exit_2_with_one_line(lenet_onnx, tmp_path):
    run = [str(CNNKIT), "serve"]
    missing = subprocess.run(
        [*run, str(tmp_path / "nope.onnx")], capture_output=True, text=True, cwd=tmp_path
    )
    assert_one_line_error(missing, "nope.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    broken = subprocess.run([*run, str(junk)], capture_output=True, text=True, cwd=tmp_path)
    assert_one_line_error(broken, "junk.onnx")
    bad_flag = subprocess.run(
        [*run, str(lenet_onnx), "--max-batch", "0"], capture_output=True, text=True, cwd=tmp_path
    )
    assert_one_line_error(bad_flag, "--max-batch")
