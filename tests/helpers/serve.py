"""Test helpers for tests/serve/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.helpers.cli import run_cli
from toolkit.serve.config import announced_url, read_announcement

CNNKIT = Path(sys.executable).parent / "cnnkit"


@dataclass
class Server:
    """A running server process and its base URL."""

    process: subprocess.Popen
    url: str
    announced: str

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send `sig` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def running(*args, cwd: Path) -> Iterator[Server]:
    """`cnnkit serve ARGS --port 0` until the block ends (then SIGTERM, or kill if stuck)."""
    process = subprocess.Popen(
        [str(CNNKIT), "serve", *map(str, args), "--port", "0", "--host", "127.0.0.1"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"},
    )
    line = read_announcement(process.stderr)
    server = Server(process, announced_url(line), line)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stderr.close()


def assert_one_json_error(response: httpx.Response, status: int, *needles: str) -> dict:
    """An error answer: the status, one JSON line with an "error" naming the problem."""
    assert response.status_code == status, (response.status_code, response.text)
    assert "\n" not in response.text.strip()
    error = response.json()["error"]
    for needle in needles:
        assert needle in error, (needle, error)
    return response.json()


def infer_rows(lenet_onnx, pngs, cwd) -> dict[str, dict]:
    """`cnnkit infer` over the files: rows keyed by path."""
    listing = cwd / "inputs.txt"
    listing.write_text("".join(f"{p}\n" for p in pngs))
    result = run_cli("infer", lenet_onnx, listing, "--out", cwd / "preds", cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = (cwd / "preds" / "results.jsonl").read_text().splitlines()
    return {row["path"]: row for row in map(json.loads, lines)}


async def post_all(url: str, requests: list[tuple[str, bytes]]) -> list[httpx.Response]:
    """Every request at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(limits=limits, timeout=300) as client:
        return await asyncio.gather(
            *(client.post(url, params={"key": key}, content=body) for key, body in requests)
        )


def connect(url: str) -> socket.socket:
    """A raw TCP connection to the server at `url` (for clients httpx cannot play)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    return socket.create_connection((host, port), timeout=60)


def drip(sock: socket.socket, data: bytes, every: float) -> bytes:
    """Send `data` one byte every `every` seconds until the server answers or closes the
    connection; what it sent back (b"" when it closed without a word)."""
    sock.settimeout(every)
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:  # reset: the server closed the connection
            return b""
        return answer + read_rest(sock)
    raise AssertionError(f"the server took all {len(data)} bytes, one every {every} s")


def read_rest(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(60)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def error_of(answer: bytes) -> tuple[int, dict]:
    """(status, JSON body) of a raw HTTP answer whose body is one JSON line."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    assert len(body.strip().splitlines()) == 1, answer
    return status, json.loads(body)
