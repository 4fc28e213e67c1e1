"""The load generator behind `cnnkit bench --serve`: perf_analyzer's table for cnnkit serve.

For each concurrency level, that many client threads each keep one HTTP/1.1 connection
busy (send, wait for the answer, send the next) with real image files, for --duration
seconds after a short untimed warm-up. Client latency percentiles come from every
request; the server-side split (queue wait vs compute, mean batch size) comes from the
difference of /metrics read before and after the level.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import mimetypes
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.runtime.inputs import expand_inputs
from toolkit.serve.scrape import ServerSplit, Target, scrape


@dataclass(frozen=True)
class LoadConfig:
    """What to send where, at which concurrency levels, for how long."""

    url: str  # http://HOST:PORT/v1/models/NAME (or the server root when it serves one model)
    inputs: tuple[str, ...]
    concurrency: tuple[int, ...] = (1, 4, 16, 64)
    duration_s: float = 10.0
    warmup_s: float = 1.0
    timeout_s: float = 60.0


@dataclass(frozen=True)
class Payload:
    """One request body and its content type."""

    body: bytes
    content_type: str


@dataclass
class LevelResult:
    """One concurrency level: client-side throughput and latency, server-side split."""

    concurrency: int
    requests: int
    errors: int
    seconds: float
    requests_per_s: float
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    statuses: dict[str, int] = field(default_factory=dict)
    server: ServerSplit | None = None

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return asdict(self)


def payloads(inputs) -> list[Payload]:
    """Request bodies from files, folders, globs or .npy stacks (arrays travel as .npy)."""
    bodies = []
    for item in expand_inputs(inputs):
        if item.index is not None or item.path.suffix.lower() == ".npy":
            buffer = io.BytesIO()
            array = np.load(item.path, allow_pickle=False)
            np.save(buffer, array if item.index is None else array[item.index])
            bodies.append(Payload(buffer.getvalue(), "application/x-npy"))
        else:
            kind = mimetypes.guess_type(item.path.name)[0] or "application/octet-stream"
            bodies.append(Payload(item.path.read_bytes(), kind))
    if not bodies:
        raise CnnkitError(f"--inputs {' '.join(inputs)}: no images in it")
    return bodies


def request(target: Target, method: str, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body); CnnkitError when unreachable."""
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as exc:
        raise CnnkitError(f"--serve {target.host}:{target.port}: cannot reach it ({exc})") from None
    finally:
        connection.close()


def resolve(url: str) -> Target:
    """The predict endpoint of --serve URL (a model URL, its /predict, or a one-model root)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise CnnkitError(f"--serve {url!r}: expected http://HOST:PORT/v1/models/NAME")
    path = parts.path.rstrip("/").removesuffix("/predict")
    host, port = parts.hostname, parts.port or 80
    if "/v1/models/" in path:
        model = path.rsplit("/", 1)[1]
        return Target(host, port, model, f"{path}/predict")
    status, body = request(Target(host, port, "", ""), "GET", "/v1/models")
    names = [m["name"] for m in json.loads(body)["models"]] if status == 200 else []
    if len(names) != 1:
        raise CnnkitError(f"--serve {url}: name the model, e.g. {url}/v1/models/NAME ({names})")
    return Target(host, port, names[0], f"/v1/models/{names[0]}/predict")


class Client(threading.Thread):
    """One closed-loop client: a keep-alive connection, one request in flight at a time."""

    def __init__(self, target: Target, bodies, counter, stop_at: float, timeout: float):
        super().__init__(daemon=True)
        self.target, self.bodies, self.counter = target, bodies, counter
        self.stop_at, self.timeout = stop_at, timeout
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}

    def connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(
            self.target.host, self.target.port, timeout=self.timeout
        )
        connection.connect()
        # Small requests: no Nagle delay between a request's packets.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def run(self) -> None:
        connection = None
        while time.perf_counter() < self.stop_at:
            payload = self.bodies[next(self.counter) % len(self.bodies)]
            start = time.perf_counter()
            try:
                connection = connection or self.connect()
                headers = {"Content-Type": payload.content_type}
                connection.request("POST", self.target.path, payload.body, headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__  # counted as an error; the client reconnects
                if connection is not None:
                    connection.close()
                connection = None
            self.latencies.append(time.perf_counter() - start)
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if connection is not None:
            connection.close()


def drive(target: Target, bodies, concurrency: int, seconds: float, timeout: float):
    """Run `concurrency` clients for `seconds`; (latencies, statuses, wall seconds)."""
    counter = itertools.count()
    start = time.perf_counter()
    clients = [
        Client(target, bodies, counter, start + seconds, timeout) for _ in range(concurrency)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    wall = time.perf_counter() - start
    latencies = [t for c in clients for t in c.latencies]
    statuses: dict[str, int] = {}
    for client in clients:
        for status, count in client.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return latencies, statuses, wall


def measure_level(target: Target, bodies, concurrency: int, config: LoadConfig) -> LevelResult:
    """Warm up, then measure one concurrency level with the server's split around it."""
    if config.warmup_s > 0:
        drive(target, bodies, concurrency, config.warmup_s, config.timeout_s)
    before = scrape(target)
    latencies, statuses, wall = drive(
        target, bodies, concurrency, config.duration_s, config.timeout_s
    )
    after = scrape(target)
    ok = statuses.get("200", 0)
    ms = np.asarray(latencies) * 1e3
    p50, p90, p95, p99 = np.percentile(ms, [50, 90, 95, 99]) if ms.size else [None] * 4
    return LevelResult(
        concurrency=concurrency,
        requests=int(ms.size),
        errors=int(ms.size) - ok,
        seconds=wall,
        requests_per_s=ok / wall if wall > 0 else 0.0,
        p50_ms=None if p50 is None else float(p50),
        p90_ms=None if p90 is None else float(p90),
        p95_ms=None if p95 is None else float(p95),
        p99_ms=None if p99 is None else float(p99),
        mean_ms=float(ms.mean()) if ms.size else None,
        statuses=statuses,
        server=after.minus(before),
    )


def run_load(config: LoadConfig) -> list[LevelResult]:
    """Every concurrency level of `config`, in order."""
    if not config.concurrency or min(config.concurrency) < 1:
        raise CnnkitError(f"--concurrency {config.concurrency}: expected positive integers")
    if config.duration_s <= 0:
        raise CnnkitError(f"--duration {config.duration_s}: must be more than 0 seconds")
    bodies = payloads(config.inputs)
    target = resolve(config.url)
    status, _ = request(target, "GET", f"/v1/models/{target.model}")
    if status != 200:
        raise CnnkitError(f"--serve {config.url}: the server has no model {target.model!r}")
    return [measure_level(target, bodies, level, config) for level in config.concurrency]
