"""The HTTP endpoints (Starlette): predict, model metadata, health, readiness, metrics, and
the Open Inference Protocol's /v2 routes (toolkit.serve.v2).

Every error is one JSON line `{"error": "..."}` with the status that names its kind:
400 bad input, 404 unknown model or route, 405 wrong method, 408 the upload was too slow,
413 body too large, 503 queue full (Retry-After), 504 past the per-request timeout,
500 the model failed on the request's batch (or a bug, logged with its traceback).

A request holds one of its model's --max-queue slots from before its upload until its
batch runs, and gives it back on every way out, so no failure can leak a slot.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.runtime.preprocess import Decoded, ImageError
from toolkit.serve.decode import decode_body
from toolkit.serve.models import ModelServer, ServedModel
from toolkit.serve.problems import CLOSE, RETRY_AFTER_S, problem, unexpected
from toolkit.serve.render import render_row
from toolkit.serve.repository import Repository
from toolkit.serve.upload import BadUpload, BodyTooLarge, UploadTooSlow, parse_upload
from toolkit.serve.v2 import v2_routes

UNKNOWN_MODEL = "unknown"  # the metrics label of every name that is not served


class Refused(Exception):
    """A request answered with an error before it got a row."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.response = problem(status, message, headers)


class Endpoints:
    """The routes of one ModelServer."""

    def __init__(self, server: ModelServer):
        self.server = server

    async def health(self, request: Request) -> Response:
        """Live: the process answers."""
        return JSONResponse({"status": "live"})

    async def ready(self, request: Request) -> Response:
        """Ready: sessions are loaded and the server is not shutting down."""
        if self.server.closing:
            return problem(503, "shutting down")
        return JSONResponse({"status": "ready", "models": list(self.server.models)})

    async def metrics(self, request: Request) -> Response:
        """Prometheus text exposition."""
        metrics = self.server.metrics
        return Response(metrics.render(), media_type=metrics.content_type)

    async def list_models(self, request: Request) -> Response:
        """Metadata of every served model."""
        return JSONResponse({"models": [m.info() for m in self.server.models.values()]})

    async def model_info(self, request: Request) -> Response:
        """Metadata of one model: task, classes, input size, provider, batching."""
        model = self.server.models.get(request.path_params["name"])
        if model is None:
            return self.unknown(request.path_params["name"]).response
        return JSONResponse(model.info())

    def unknown(self, name: str) -> Refused:
        """404 for a model name that is not served."""
        served = ", ".join(self.server.models)
        return Refused(404, f"no model named {name[:200]!r} (served: {served})")

    async def predict(self, request: Request) -> Response:
        """One input -> its row (the row `infer` writes), through the model's batcher."""
        name = request.path_params["name"]
        try:
            response = await self.answer(name, request)
        except Refused as exc:
            response = exc.response
        except Exception as exc:  # a disconnect or a bug: answered (and logged) all the same
            response = unexpected(name, exc)
        # Only served names are labels: client-chosen names must not grow the metrics.
        label = name if name in self.server.models else UNKNOWN_MODEL
        self.server.metrics.requests.labels(label, str(response.status_code)).inc()
        return response

    async def answer(self, name: str, request: Request) -> Response:
        """The predict response; Refused (or the exception) naming what went wrong."""
        model = self.server.models.get(name)
        if model is None:
            raise self.unknown(name)
        try:
            model = self.server.admitted(name, None)  # a reload may have swapped it meanwhile
        except KeyError:
            raise self.unknown(name) from None  # unloaded meanwhile
        if model is None:
            waiting = self.server.config.batching.max_queue
            message = f"{name}: the queue is full ({waiting} waiting)"
            raise Refused(503, message, {"Retry-After": str(RETRY_AFTER_S)})
        batcher = model.batcher
        deadline = asyncio.get_running_loop().time() + batcher.settings.timeout_s
        try:
            key, decoded = await self.prepare(model, request, deadline)
        except BaseException:
            batcher.release()
            raise
        future = batcher.submit(key, decoded)  # the batcher frees the slot when it runs
        try:
            remaining = deadline - asyncio.get_running_loop().time()
            answer = await asyncio.wait_for(asyncio.wrap_future(future), remaining)
        except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
            raise self.too_late(model) from None
        except Exception as exc:  # the batch's failure, answered as 500
            message = f"{name}: the model failed on this request's batch: {exc}"
            raise Refused(500, message) from None
        return render_row(answer.row, request.headers.get("accept", ""))

    async def prepare(
        self, model: ServedModel, request: Request, deadline: float
    ) -> tuple[str, Decoded]:
        """Read and decode the body by the deadline; Refused with 400/408/413/504."""
        try:
            body = await self.server.uploads.read(request, self.server.max_body_bytes, deadline)
            key, body, content_type = await parse_upload(request, body)
        except BodyTooLarge as exc:
            raise Refused(413, str(exc), CLOSE) from None
        except UploadTooSlow as exc:
            raise Refused(408, f"{model.name}: {exc}", CLOSE) from None
        except BadUpload as exc:
            raise Refused(400, str(exc)) from None
        loop = asyncio.get_running_loop()
        decoding = loop.run_in_executor(
            self.server.pool, decode_body, model.predictor, key, body, content_type
        )
        try:
            return key, await asyncio.wait_for(decoding, deadline - loop.time())
        except ImageError as exc:
            raise Refused(400, str(exc)) from None
        except asyncio.TimeoutError:  # TimeoutError itself only from Python 3.11
            raise self.too_late(model) from None

    def too_late(self, model: ServedModel) -> Refused:
        """504 for a request past its timeout."""
        timeout = model.batcher.settings.timeout_s
        return Refused(504, f"{model.name}: no answer within the request timeout of {timeout:g} s")


async def http_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's own 404 (no such route) and 405 (wrong method), as JSON lines."""
    where = f"{request.method} {request.url.path[:200]}"
    return problem(exc.status_code, f"{where}: {exc.detail}", exc.headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    """An exception that escaped an endpoint (a bug): 500 as a JSON line (uvicorn logs it)."""
    return problem(500, f"internal error: {type(exc).__name__}")


def build_app(server: ModelServer, repository: Repository | None = None) -> Starlette:
    """The Starlette app serving a ModelServer; its shutdown answers what is queued and stops
    the batchers."""
    endpoints = Endpoints(server)

    @asynccontextmanager
    async def lifespan(app):
        yield
        if repository is not None:
            repository.stopped.set()  # no more --poll reloads
        # uvicorn has let in-flight requests finish; answer anything still queued, then stop.
        await asyncio.get_running_loop().run_in_executor(None, server.close)

    routes = [
        Route("/health", endpoints.health),
        Route("/ready", endpoints.ready),
        Route("/metrics", endpoints.metrics),
        Route("/v1/models", endpoints.list_models),
        Route("/v1/models/{name}", endpoints.model_info),
        Route("/v1/models/{name}/predict", endpoints.predict, methods=["POST"]),
        *v2_routes(server, repository),
    ]
    handlers = {HTTPException: http_error, Exception: internal_error}
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
