"""`cnnkit serve --engine ray`: the same predictor and rows as a Ray Serve deployment.

Each model is a Ray Serve application at /v1/models/{name}, with `--replicas N` replicas
(actors, anywhere on the cluster). A replica decodes with the same `decode_body`, batches
with Ray Serve's `@serve.batch` (--max-batch, --max-delay-ms) and predicts through the same
`Predictor.rows` as the local server, so the rows are equal by construction. Ray's HTTP
proxy answers 503 past --max-queue (`max_queued_requests`). The model file must be at the
same path on every node (a shared folder), as for `infer --engine ray`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable

import ray
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from toolkit.errors import CnnkitError
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import Decoded, ImageError
from toolkit.serve.config import ANNOUNCEMENT, ServeConfig
from toolkit.serve.decode import decode_body
from toolkit.serve.render import render_row
from toolkit.serve.upload import BadUpload, BodyTooLarge, read_upload

# Ray's per-request INFO lines from every actor would drown the one line cnnkit prints.
QUIET = {"logging_level": logging.WARNING, "log_to_driver": False}
SERVE_LOGS = {"log_level": "WARNING", "enable_access_log": False}


def problem(status: int, message: str) -> JSONResponse:
    """An error answer: one JSON line naming the problem."""
    return JSONResponse({"error": message}, status_code=status)


class ModelReplica:
    """One replica: a Predictor, Ray Serve's batcher in front of it, the predict route."""

    def __init__(self, name: str, model: str, options: PredictorOptions, config: dict):
        self.name, self.config = name, config
        self.predictor = Predictor(model, options, quiet=True)
        self.run_batch.set_max_batch_size(config["max_batch"])
        self.run_batch.set_batch_wait_timeout_s(config["max_delay_ms"] / 1000)

    @serve.batch
    async def run_batch(self, items: list[tuple[str, Decoded]]) -> list[dict]:
        """One session.run for a batch, off the replica's event loop."""
        keys, decoded = [k for k, _ in items], [d for _, d in items]
        return await asyncio.to_thread(self.predictor.rows, keys, decoded)

    async def __call__(self, request: Request) -> Response:
        if request.method == "GET" and not request.url.path.rstrip("/").endswith("/predict"):
            spec = self.predictor.spec
            return JSONResponse(
                {
                    "name": self.name,
                    "task": spec.task,
                    "classes": list(spec.classes) if spec.classes else None,
                    "input_size": [spec.channels, *spec.size],
                    "provider": self.predictor.provider,
                    "engine": "ray",
                    "batching": self.config,
                }
            )
        if request.method != "POST" or not request.url.path.rstrip("/").endswith("/predict"):
            return problem(404, f"{request.method} {request.url.path}: not a route of {self.name}")
        return await self.predict(request)

    async def predict(self, request: Request) -> Response:
        """The row for one input, as the local server answers it."""
        try:
            key, body, content_type = await read_upload(request, self.config["max_body_bytes"])
            decoded = await asyncio.to_thread(decode_body, self.predictor, key, body, content_type)
        except BodyTooLarge as exc:
            return problem(413, str(exc))
        except (BadUpload, ImageError) as exc:
            return problem(400, str(exc))
        try:
            row = await asyncio.wait_for(self.run_batch((key, decoded)), self.config["timeout_s"])
        except TimeoutError:
            timeout = self.config["timeout_s"]
            return problem(
                504, f"{self.name}: no answer within the request timeout of {timeout:g} s"
            )
        except Exception as exc:  # the batch's failure, answered as 500
            return problem(500, f"{self.name}: the model failed on this request's batch: {exc}")
        return render_row(row, request.headers.get("accept", ""))


def deployment(config: ServeConfig, name: str, path):
    """The Ray Serve application of one model."""
    batching = config.batching
    options = config.predictor
    if options.session.threads is None:  # replicas share the cores of a node
        options = options.updated(threads=max(1, (os.cpu_count() or 1) // config.replicas))
    settings = {
        "max_batch": batching.max_batch,
        "max_delay_ms": batching.max_delay_ms,
        "max_queue": batching.max_queue,
        "timeout_s": batching.timeout_s,
        "max_body_bytes": config.max_body_bytes,
        "replicas": config.replicas,
    }
    return (
        serve.deployment(ModelReplica)
        .options(
            name=name,
            num_replicas=config.replicas,
            max_ongoing_requests=2 * batching.max_batch,  # enough to fill a batch
            max_queued_requests=batching.max_queue,
            ray_actor_options={"num_cpus": 0},  # cores are shared through --threads
        )
        .bind(name, str(path.resolve()), options, settings)
    )


def wait_for_signal() -> int:
    """Block until SIGTERM or SIGINT; the signal."""
    received: list[int] = []
    done = threading.Event()

    def handler(sig, frame):
        received.append(sig)
        done.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        done.wait()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return received[0]


def serve_on_ray(config: ServeConfig, announce: Callable[[str], None]) -> int:
    """Deploy every model on Ray Serve, serve until SIGTERM/SIGINT, then shut down."""
    for path in config.models.values():
        Predictor(path, config.predictor, quiet=config.quiet)  # bad flags fail here, once
    if config.ray_address:
        try:
            ray.init(address=config.ray_address, **QUIET)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise CnnkitError(f"--address {config.ray_address}: cannot connect ({exc})") from None
    else:
        ray.init(include_dashboard=False, **QUIET)
    try:
        serve.start(
            http_options={"host": config.host, "port": config.port}, logging_config=SERVE_LOGS
        )
        for name, path in config.models.items():
            app = deployment(config, name, path)
            serve.run(app, name=name, route_prefix=f"/v1/models/{name}", logging_config=SERVE_LOGS)
        names = ", ".join(config.models)
        announce(
            f"{ANNOUNCEMENT}http://{config.host}:{config.port}: {names} on Ray Serve,"
            f" {config.replicas} replica(s) each"
        )
        return wait_for_signal()
    finally:
        serve.shutdown()
        ray.shutdown()
