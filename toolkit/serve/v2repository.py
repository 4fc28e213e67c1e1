"""The Open Inference Protocol's model repository extension over a `--model-repository`.

POST /v2/repository/index lists every model version in the folder with its state;
POST /v2/repository/models/NAME/load (re)reads a model's folder and swaps it in (a broken
file: 400 naming why, the old version keeps serving); .../unload stops serving it.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.errors import CnnkitError
from toolkit.serve.problems import problem
from toolkit.serve.repository import Repository


class RepositoryEndpoints:
    """index, load and unload of one Repository."""

    def __init__(self, repository: Repository):
        self.repository = repository

    async def index(self, request: Request) -> Response:
        """Every version in the folder: name, version, state, and why when not READY."""
        return JSONResponse(self.repository.index())

    async def load(self, request: Request) -> Response:
        """Load or reload a model (opened and warmed off the event loop); 400 when it fails."""
        name = request.path_params["name"]
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.repository.load, name)
        except CnnkitError as exc:
            return problem(400, f"{name}: {exc}")
        return JSONResponse({})

    async def unload(self, request: Request) -> Response:
        """Stop serving a model; 404 when it is not loaded."""
        name = request.path_params["name"]
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.repository.unload, name)
        except KeyError:
            return problem(404, f"no model named {name!r} is loaded")
        return JSONResponse({})


def repository_routes(repository: Repository) -> list[Route]:
    """The model repository extension's routes."""
    endpoints = RepositoryEndpoints(repository)
    return [
        Route("/v2/repository/index", endpoints.index, methods=["GET", "POST"]),
        Route("/v2/repository/models/{name}/load", endpoints.load, methods=["POST"]),
        Route("/v2/repository/models/{name}/unload", endpoints.unload, methods=["POST"]),
    ]
