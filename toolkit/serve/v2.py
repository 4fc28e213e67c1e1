"""The Open Inference Protocol (KServe v2 REST) endpoints, beside cnnkit's own /v1.

GET /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME[/versions/V][/ready] and
POST /v2/models/NAME[/versions/V]/infer, with JSON tensors or the binary tensor data
extension: what Triton's and KServe's clients (`tritonclient`) speak. Requests go through
the same batcher, limits and metrics as /v1; errors are the protocol's `{"error": "..."}`
with the statuses of toolkit.serve.app.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit import __version__
from toolkit.runtime.preprocess import ImageError
from toolkit.serve.models import ModelServer, ServedModel
from toolkit.serve.problems import CLOSE, RETRY_AFTER_S, problem, unexpected
from toolkit.serve.repository import Repository
from toolkit.serve.tensors import HEADER_LENGTH, BadTensor, encode_response, parse_request
from toolkit.serve.upload import BodyTooLarge, UploadTooSlow
from toolkit.serve.v2model import (
    decode_request,
    failed_row,
    output_tensors,
    sample_count,
    tensor_metadata,
)
from toolkit.serve.v2repository import repository_routes

EXTENSIONS = ["binary_tensor_data"]


class Answered(Exception):
    """A request ended early with an error response."""

    def __init__(self, response: Response):
        self.response = response


class V2Endpoints:
    """The v2 routes of one ModelServer."""

    def __init__(self, server: ModelServer, extensions: list[str]):
        self.server, self.extensions = server, extensions

    async def metadata(self, request: Request) -> Response:
        """Server metadata: name, version, extensions."""
        meta = {"name": "cnnkit", "version": __version__, "extensions": self.extensions}
        return JSONResponse(meta)

    async def live(self, request: Request) -> Response:
        """200 while the process answers."""
        return Response(status_code=200)

    async def ready(self, request: Request) -> Response:
        """200 once every model is loaded, 503 while shutting down."""
        if self.server.closing:
            return problem(503, "shutting down")
        return Response(status_code=200)

    def model(self, request: Request) -> ServedModel:
        """The model (and version) a path names; Answered with 404 when none is served."""
        name, version = request.path_params["name"], request.path_params.get("version")
        try:
            return self.server.lookup(name, version)
        except KeyError:
            raise Answered(self.unknown(name, version)) from None

    def unknown(self, name: str, version: str | None) -> Response:
        """404 naming what is served instead."""
        if name not in self.server.versions:
            served = ", ".join(self.server.models)
            return problem(404, f"no model named {name!r} (served: {served})")
        versions = ", ".join(self.server.versions[name])
        return problem(404, f"{name}: no version {version!r} (versions: {versions})")

    async def model_metadata(self, request: Request) -> Response:
        """Name, versions, platform, input and output tensors."""
        try:
            model = self.model(request)
        except Answered as answered:
            return answered.response
        versions = list(self.server.versions.get(model.name, {model.version: model}))
        meta = {"name": model.name, "versions": versions, **tensor_metadata(model.predictor)}
        return JSONResponse(meta)

    async def model_ready(self, request: Request) -> Response:
        """200 when the model is served and the server is not shutting down."""
        try:
            self.model(request)
        except Answered as answered:
            return answered.response
        return await self.ready(request)

    async def infer(self, request: Request) -> Response:
        """An inference request: its samples through the model's batcher, the outputs back."""
        try:
            model = self.model(request)
        except Answered as answered:
            return answered.response
        try:
            response = await self.answer(model, request)
        except Answered as answered:
            response = answered.response
        except Exception as exc:  # a disconnect or a bug: answered (and logged) all the same
            response = unexpected(model.name, exc)
        self.server.metrics.requests.labels(model.name, str(response.status_code)).inc()
        return response

    async def answer(self, model: ServedModel, request: Request) -> Response:
        """The infer response; Answered with the error response naming what went wrong."""
        deadline = asyncio.get_running_loop().time() + model.batcher.settings.timeout_s
        try:
            body = await self.server.uploads.read(request, self.server.max_body_bytes, deadline)
        except BodyTooLarge as exc:
            raise Answered(problem(413, str(exc), CLOSE)) from None
        except UploadTooSlow as exc:
            raise Answered(problem(408, f"{model.name}: {exc}", CLOSE)) from None
        header_length = request.headers.get(HEADER_LENGTH)
        if header_length is None:  # JSON tensors: parsing may take a while, off the loop
            parsed = await self.in_pool(parse_request, body, None)
        else:  # binary tensors: a small JSON head, parsed here without a thread hop
            try:
                parsed = parse_request(body, header_length)
            except BadTensor as exc:
                raise Answered(problem(400, str(exc))) from None
        try:
            count = sample_count(model.predictor, parsed)
        except BadTensor as exc:
            raise Answered(problem(400, str(exc))) from None
        try:  # a reload may have swapped the model while the body arrived
            admitted = self.server.admitted(model.name, request.path_params.get("version"), count)
        except KeyError:
            raise Answered(self.unknown(model.name, request.path_params.get("version"))) from None
        if admitted is None:
            waiting = model.batcher.settings.max_queue
            raise Answered(problem(503, f"{model.name}: the queue is full ({waiting} waiting)",
                                   {"Retry-After": str(RETRY_AFTER_S)}))  # fmt: skip
        model, batcher = admitted, admitted.batcher
        try:
            samples = await self.in_pool(decode_request, model.predictor, parsed, deadline=deadline)
        except TimeoutError:
            batcher.release(count)
            raise Answered(self.too_late(model)) from None
        except BaseException:
            batcher.release(count)
            raise
        futures = [asyncio.wrap_future(batcher.submit(key, input)) for key, input in samples]
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*futures), deadline - asyncio.get_running_loop().time()
            )
        except TimeoutError:
            raise Answered(self.too_late(model)) from None
        except Exception as exc:  # the batch's failure, answered as 500
            message = f"{model.name}: the model failed on this request's batch: {exc}"
            raise Answered(problem(500, message)) from None
        failed = failed_row(answers)
        if failed is not None:
            raise Answered(problem(500, f"{model.name}: {failed['path']}: {failed['error']}"))
        try:
            outputs = output_tensors(model.predictor, answers, parsed.outputs)
        except BadTensor as exc:
            raise Answered(problem(400, str(exc))) from None
        head = {"model_name": model.name, "model_version": model.version}
        if parsed.id is not None:
            head["id"] = parsed.id
        content, headers = encode_response(head, outputs, parsed)
        return Response(content, headers=headers)

    async def in_pool(self, work, *args, deadline: float | None = None):
        """`work(*args)` on the decode pool; its BadTensor/ImageError become Answered 400s."""
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(self.server.pool, work, *args)
        try:
            if deadline is None:
                return await running
            return await asyncio.wait_for(running, deadline - loop.time())
        except (BadTensor, ImageError) as exc:
            raise Answered(problem(400, str(exc))) from None

    def too_late(self, model: ServedModel) -> Response:
        """504 for a request past its timeout."""
        timeout = model.batcher.settings.timeout_s
        return problem(504, f"{model.name}: no answer within the request timeout of {timeout:g} s")


def v2_routes(server: ModelServer, repository: Repository | None = None) -> list[Route]:
    """The routes of the Open Inference Protocol (and its repository extension)."""
    extensions = EXTENSIONS + (["model_repository"] if repository else [])
    v2 = V2Endpoints(server, extensions)
    routes = repository_routes(repository) if repository else []
    routes += [
        Route("/v2", v2.metadata),
        Route("/v2/health/live", v2.live),
        Route("/v2/health/ready", v2.ready),
    ]
    for model in ("/v2/models/{name}", "/v2/models/{name}/versions/{version}"):
        routes += [
            Route(model, v2.model_metadata),
            Route(f"{model}/ready", v2.model_ready),
            Route(f"{model}/infer", v2.infer, methods=["POST"]),
        ]
    return routes
