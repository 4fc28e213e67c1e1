"""The HTTP endpoints (Starlette): predict, model metadata, health, readiness, metrics, and
the Open Inference Protocol's /v2 routes (toolkit.serve.v2).

Every error is one JSON line `{"error": "..."}` with the status that names its kind:
400 bad input, 404 unknown model, 413 body too large, 503 queue full (Retry-After),
504 past the per-request timeout, 500 the model failed on the request's batch.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.runtime.preprocess import ImageError
from toolkit.serve.decode import decode_body
from toolkit.serve.models import ModelServer
from toolkit.serve.problems import RETRY_AFTER_S, problem
from toolkit.serve.render import render_row
from toolkit.serve.upload import BadUpload, BodyTooLarge, read_upload
from toolkit.serve.v2 import v2_routes


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
            return self.unknown(request.path_params["name"])
        return JSONResponse(model.info())

    def unknown(self, name: str) -> Response:
        """404 for a model name that is not served."""
        served = ", ".join(self.server.models)
        return problem(404, f"no model named {name!r} (served: {served})")

    async def predict(self, request: Request) -> Response:
        """One input -> its row (the row `infer` writes), through the model's batcher."""
        name = request.path_params["name"]
        response = await self.answer(name, request)
        self.server.metrics.requests.labels(name, str(response.status_code)).inc()
        return response

    async def answer(self, name: str, request: Request) -> Response:
        """The predict response, or the error response naming what went wrong."""
        model = self.server.models.get(name)
        if model is None:
            return self.unknown(name)
        deadline = time.perf_counter() + model.batcher.settings.timeout_s
        try:
            key, body, content_type = await read_upload(request, self.server.max_body_bytes)
        except BodyTooLarge as exc:
            return problem(413, str(exc))
        except BadUpload as exc:
            return problem(400, str(exc))
        batcher = model.batcher
        if not batcher.admit():
            message = f"{name}: the queue is full ({batcher.settings.max_queue} waiting)"
            return problem(503, message, {"Retry-After": str(RETRY_AFTER_S)})
        loop = asyncio.get_running_loop()
        try:
            decoding = loop.run_in_executor(
                self.server.pool, decode_body, model.predictor, key, body, content_type
            )
            decoded = await asyncio.wait_for(decoding, deadline - time.perf_counter())
        except ImageError as exc:
            batcher.release()
            return problem(400, str(exc))
        except TimeoutError:
            batcher.release()
            return self.too_late(name, model)
        future = batcher.submit(key, decoded)
        try:
            answer = await asyncio.wait_for(
                asyncio.wrap_future(future), deadline - time.perf_counter()
            )
        except TimeoutError:
            return self.too_late(name, model)
        except Exception as exc:  # the batch's failure, answered as 500
            return problem(500, f"{name}: the model failed on this request's batch: {exc}")
        return render_row(answer.row, request.headers.get("accept", ""))

    def too_late(self, name: str, model) -> Response:
        """504 for a request past its timeout."""
        timeout = model.batcher.settings.timeout_s
        return problem(504, f"{name}: no answer within the request timeout of {timeout:g} s")


def build_app(server: ModelServer) -> Starlette:
    """The Starlette app serving a ModelServer; its shutdown answers what is queued and stops
    the batchers."""
    endpoints = Endpoints(server)

    @asynccontextmanager
    async def lifespan(app):
        yield
        # uvicorn has let in-flight requests finish; answer anything still queued, then stop.
        await asyncio.get_running_loop().run_in_executor(None, server.close)

    routes = [
        Route("/health", endpoints.health),
        Route("/ready", endpoints.ready),
        Route("/metrics", endpoints.metrics),
        Route("/v1/models", endpoints.list_models),
        Route("/v1/models/{name}", endpoints.model_info),
        Route("/v1/models/{name}/predict", endpoints.predict, methods=["POST"]),
        *v2_routes(server),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
