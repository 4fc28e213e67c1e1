"""Hostile clients against a real `cnnkit serve` (issue 30): a 128-byte .npy that asked
for 4 TB, client-chosen metric labels, slow and stalled clients, errors that must be JSON.

Raw sockets play the clients httpx cannot (slow heads, stalled bodies, garbage); the
limits are set small (--timeout 1 or 2 s) so each case takes a second or two.
"""

from __future__ import annotations

import io
import signal
import time

import httpx
import numpy as np

from tests.helpers.serve import assert_one_json_error, connect, drip, error_of, read_rest

HEAD = "POST /v1/models/lenet/predict HTTP/1.1\r\nhost: x\r\n"


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header_only(shape: tuple, descr: str = "<f4") -> bytes:
    """A .npy of 128 bytes: a valid header declaring `shape`, and no data."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    padded = header.encode().ljust(128 - 10 - 1) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(padded).to_bytes(2, "little") + padded


def post(url: str, body: bytes, **kwargs) -> httpx.Response:
    return httpx.post(url, content=body, timeout=60, **kwargs)


def metric(text: str, prefix: str) -> float:
    """The value of the one sample line starting with `prefix`."""
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix)]
    assert len(values) == 1, (prefix, values)
    return values[0]


def wait_for_uploads(url: str, count: int) -> None:
    """Until `count` requests hold a queue place (an upload holds one while it is read)."""
    for _ in range(600):  # at most 60 s on a busy machine
        if metric(httpx.get(f"{url}/metrics").text, "cnnkit_queue_depth") == count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} uploads never started")


def test_a_128_byte_npy_is_400_and_never_takes_the_queue(serve, lenet_onnx, digits_pngs):
    bomb = npy_header_only((1, 1000000, 1000000))
    assert len(bomb) == 128
    with serve(lenet_onnx, "--max-queue", "2") as server:
        url = f"{server.url}/v1/models/lenet/predict"
        for _ in range(5):  # more than --max-queue: each gave its slot back
            assert_one_json_error(post(url, bomb), 400, "declares", "4,000,000,000,000 bytes")
        negative = post(url, npy_header_only((1, -32, 32)))
        assert_one_json_error(negative, 400, "negative dimension")
        pickled = post(url, npy_header_only((2,), "|O"))
        assert_one_json_error(pickled, 400, "Python objects")
        huge = npy_bytes(np.full((1, 32, 32), 1e300))  # float64 past float32's range
        assert_one_json_error(post(url, huge), 400, "infinite")
        good = post(url, digits_pngs[0].read_bytes())
        assert good.status_code == 200 and good.json()["status"] == "ok"
        assert httpx.get(f"{server.url}/ready").status_code == 200
        metrics = httpx.get(f"{server.url}/metrics").text
        assert server.stop() == 0
        log = server.process.stderr.read()
    assert metric(metrics, 'cnnkit_requests_total{model="lenet",status="400"}') == 8
    assert metric(metrics, 'cnnkit_queue_depth{model="lenet"}') == 0
    assert "Error" not in log, log


def test_every_way_out_gives_the_queue_slot_back(serve, lenet_onnx, digits_pngs):
    image = digits_pngs[0].read_bytes()
    args = ("--max-queue", "1", "--max-body", "20000", "--timeout", "1")
    with serve(lenet_onnx, *args) as server:
        url = f"{server.url}/v1/models/lenet/predict"
        assert_one_json_error(post(url, b"not an image"), 400, "not an image")
        multipart = {"Content-Type": "multipart/form-data"}  # no boundary
        assert_one_json_error(post(url, image, headers=multipart), 400, "multipart")
        assert_one_json_error(post(url, b"x" * 30000), 413, "--max-body")
        for every in (None, 0.2):  # the rest of the body never comes, or a byte at a time
            slow = connect(server.url)
            slow.sendall(f"{HEAD}content-length: {len(image)}\r\n\r\n".encode())
            answer = read_rest(slow) if every is None else drip(slow, image, every)
            status, body = error_of(answer)
            assert (
                status == 408 and "did not arrive" in body["error"] and "--timeout" in body["error"]
            )
        v2 = connect(server.url)  # the Open Inference Protocol's bodies have the same deadline
        v2.sendall(
            b"POST /v2/models/lenet/infer HTTP/1.1\r\nhost: x\r\ncontent-length: 99\r\n\r\n{"
        )
        status, body = error_of(read_rest(v2))
        assert status == 408 and "did not arrive" in body["error"]
        gone = connect(server.url)
        gone.sendall(f"{HEAD}content-length: 100\r\n\r\nsome".encode())
        wait_for_uploads(server.url, 1)  # the server is reading the body
        gone.close()
        wait_for_uploads(server.url, 0)  # the server noticed, and gave the place back
        answers = [post(url, image).status_code for _ in range(3)]  # one slot: each freed it
        metrics = httpx.get(f"{server.url}/metrics").text
        code = server.stop()
        log = server.process.stderr.read()
    assert answers == [200, 200, 200]
    assert metric(metrics, 'cnnkit_queue_depth{model="lenet"}') == 0
    assert metric(metrics, 'cnnkit_requests_total{model="lenet",status="408"}') == 3
    assert code == 0
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if "disconnected" in line]) == 1, log


def test_every_error_is_one_json_line_and_unknown_names_one_label(serve, lenet_onnx):
    with serve(lenet_onnx, "--timeout", "1") as server:
        with httpx.Client(timeout=60) as client:
            for i in range(40):  # client-chosen names: they must not grow the metrics
                name = f"{i}-" + "x" * 3000
                answer = client.post(f"{server.url}/v1/models/{name}/predict", content=b"a")
                assert_one_json_error(answer, 404, "no model named")
        assert_one_json_error(httpx.get(f"{server.url}/no/such/route"), 404, "Not Found")
        wrong = httpx.get(f"{server.url}/v1/models/lenet/predict")
        assert_one_json_error(wrong, 405, "Method Not Allowed")
        assert "POST" in wrong.headers["allow"]
        garbage = connect(server.url)
        garbage.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert error_of(read_rest(garbage))[0] == 400
        big_head = connect(server.url)
        big_head.sendall(b"GET /health HTTP/1.1\r\nx-pad: " + b"a" * 20000 + b"\r\n\r\n")
        status, body = error_of(read_rest(big_head))
        assert status == 400 and "16,384 bytes" in body["error"]
        slow_head = drip(connect(server.url), b"GET /health HTTP/1.1\r\n" * 20, every=0.2)
        status, body = error_of(slow_head)
        assert status == 408 and "request head" in body["error"]
        metrics = httpx.get(f"{server.url}/metrics").text
    assert metric(metrics, 'cnnkit_requests_total{model="unknown",status="404"}') == 40
    assert "xxxxxxxx" not in metrics
    assert len(metrics) < 20000


def test_sigterm_drops_a_stalled_upload_and_exits_0_despite_more_signals(serve, lenet_onnx):
    with serve(lenet_onnx, "--timeout", "60") as server:
        stalled = connect(server.url)
        stalled.sendall(f"{HEAD}content-length: 1000\r\n\r\nonly the start".encode())
        wait_for_uploads(server.url, 1)  # before that, SIGTERM would just close it
        server.process.send_signal(signal.SIGTERM)
        signalled = time.perf_counter()
        while server.process.poll() is None:  # SIGTERM again and again, to the very end
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.05)
        status, body = error_of(read_rest(stalled))
        code = server.process.wait(timeout=0)
        stopped_after = time.perf_counter() - signalled
    assert code == 0
    assert stopped_after < 30  # the stall rule ended it, not the 60 s --timeout
    assert status == 408 and "stalled" in body["error"]
