"""The load generator behind `cnnkit bench --serve`: perf_analyzer's table for cnnkit serve.

For each concurrency level, that many client threads each keep one HTTP/1.1 connection
busy (send, wait for the answer, send the next) with real image files, for --duration
seconds after a short untimed warm-up. With --rate, each level is an offered request rate
instead (open loop: toolkit.serve.openloop). Client latency percentiles come from every
request; the server-side split (queue wait vs compute, batch sizes) comes from the
difference of /metrics read before and after the level. --protocol v2 sends each image as
a BYTES tensor with the binary tensor data extension to /v2/models/NAME/infer, as
tritonclient does.
"""

from __future__ import annotations

import http.client
import io
import itertools
import json
import math
import mimetypes
import socket
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import urlsplit

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.runtime.inputs import expand_inputs
from toolkit.serve.openloop import drive_rate, senders_for
from toolkit.serve.scrape import ServerSplit, Target, scrape
from toolkit.serve.tensors import HEADER_LENGTH, datatype_of

PROTOCOLS = ("v1", "v2")


@dataclass(frozen=True)
class LoadConfig:
    """What to send where, at which concurrency levels, for how long."""

    url: str  # http://HOST:PORT/v1/models/NAME (or the server root when it serves one model)
    inputs: tuple[str, ...]
    concurrency: tuple[int, ...] = (1, 4, 16, 64)
    duration_s: float = 10.0
    warmup_s: float = 1.0
    timeout_s: float = 60.0
    rates: tuple[float, ...] = ()  # requests/s levels (open loop) instead of concurrency
    arrivals: str = "constant"  # or "poisson"
    slo_ms: float | None = None  # goodput counts answers within this latency
    protocol: str = "v1"  # or "v2" (the Open Inference Protocol, binary tensor data)


@dataclass(frozen=True)
class Payload:
    """One request body and its headers."""

    body: bytes
    headers: dict


@dataclass
class LevelResult:
    """One concurrency level: client-side throughput and latency, server-side split."""

    concurrency: int  # clients, or the open loop's senders
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
    offered_per_s: float | None = None  # open loop: the --rate asked for
    sent_per_s: float | None = None  # open loop: arrivals scheduled per second
    goodput_per_s: float | None = None  # answers within --slo-ms per second

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
            bodies.append(Payload(buffer.getvalue(), {"Content-Type": "application/x-npy"}))
        else:
            kind = mimetypes.guess_type(item.path.name)[0] or "application/octet-stream"
            bodies.append(Payload(item.path.read_bytes(), {"Content-Type": kind}))
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


def resolve(url: str, protocol: str = "v1") -> Target:
    """The endpoint of --serve URL (a /v1 or /v2 model URL, its /predict or /infer, or a
    one-model root) in the --protocol's spelling."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise CnnkitError(f"--serve {url!r}: expected http://HOST:PORT/v1/models/NAME")
    if protocol not in PROTOCOLS:
        raise CnnkitError(f"--protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    path = parts.path.rstrip("/").removesuffix("/predict").removesuffix("/infer")
    host, port = parts.hostname, parts.port or 80
    if "/v1/models/" in path or "/v2/models/" in path:
        model = path.split("/models/", 1)[1].split("/")[0]
    else:
        status, body = request(Target(host, port, "", ""), "GET", "/v1/models")
        names = [m["name"] for m in json.loads(body)["models"]] if status == 200 else []
        if len(names) != 1:
            raise CnnkitError(f"--serve {url}: name the model, e.g. {url}/v1/models/NAME ({names})")
        model = names[0]
    if protocol == "v2":
        return Target(host, port, model, f"/v2/models/{model}/infer")
    return Target(host, port, model, f"/v1/models/{model}/predict")


def v2_payload(payload: Payload, input_name: str) -> Payload:
    """An image (a BYTES tensor [1]) or a .npy array (its own tensor, batch of 1) as a v2
    infer request with the binary tensor data extension; outputs come back binary too."""
    if payload.headers.get("Content-Type") == "application/x-npy":
        array = np.load(io.BytesIO(payload.body), allow_pickle=False)
        data, datatype, shape = array.tobytes(), datatype_of(array.dtype), [1, *array.shape]
    else:
        body = payload.body
        data, datatype, shape = len(body).to_bytes(4, "little") + body, "BYTES", [1]
    tensor = {"name": input_name, "datatype": datatype, "shape": shape,
              "parameters": {"binary_data_size": len(data)}}  # fmt: skip
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}})
    headers = {"Content-Type": "application/octet-stream", HEADER_LENGTH: str(len(header))}
    return Payload(header.encode() + data, headers)


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
                connection.request("POST", self.target.path, payload.body, payload.headers)
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
    return summarise(concurrency, latencies, statuses, wall, scrape(target).minus(before))


def summarise(concurrency: int, latencies, statuses, wall: float, server) -> LevelResult:
    """A level's numbers from its requests' latencies (seconds) and statuses."""
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
        server=server,
    )


def run_load(config: LoadConfig) -> list[LevelResult]:
    """Every concurrency (or --rate) level of `config`, in order."""
    if not config.concurrency or min(config.concurrency) < 1:
        raise CnnkitError(f"--concurrency {config.concurrency}: expected positive integers")
    if config.duration_s <= 0:
        raise CnnkitError(f"--duration {config.duration_s}: must be more than 0 seconds")
    if config.slo_ms is not None and config.slo_ms <= 0:
        raise CnnkitError(f"--slo-ms {config.slo_ms:g}: must be more than 0")
    if any(not (math.isfinite(rate) and rate > 0) for rate in config.rates):
        raise CnnkitError(f"--rate {config.rates}: expected finite requests/s above 0")
    bodies = payloads(config.inputs)
    target = resolve(config.url, config.protocol)
    status, body = request(target, "GET", f"/{config.protocol}/models/{target.model}")
    if status != 200:
        raise CnnkitError(f"--serve {config.url}: the server has no model {target.model!r}")
    if config.protocol == "v2":
        input_name = json.loads(body)["inputs"][0]["name"]
        bodies = [v2_payload(b, input_name) for b in bodies]
    if config.rates:
        return [measure_rate(target, bodies, rate, config) for rate in config.rates]
    return [measure_level(target, bodies, level, config) for level in config.concurrency]


def measure_rate(target: Target, bodies, rate: float, config: LoadConfig) -> LevelResult:
    """One open-loop level: `rate` arrivals per second for --duration, then its answers."""
    before = scrape(target)
    outcomes, wall, sent = drive_rate(
        target, bodies, rate, config.duration_s, config.arrivals, config.timeout_s
    )
    statuses: dict[str, int] = {}
    for _, status in outcomes:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = [latency for latency, _ in outcomes]
    level = summarise(senders_for(rate), latencies, statuses, wall, scrape(target).minus(before))
    slo = config.slo_ms / 1e3 if config.slo_ms is not None else None
    good = sum(1 for t, s in outcomes if s == "200" and (slo is None or t <= slo))
    return replace(
        level,
        offered_per_s=rate,
        sent_per_s=sent / config.duration_s,
        goodput_per_s=good / wall,
    )
