"""Error answers: one JSON line `{"error": "..."}` (the Open Inference Protocol's shape too)."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

RETRY_AFTER_S = 1  # what a 503 tells clients to wait
CLIENT_GONE = 499  # nginx's status for a client that closed the request: only counted
CLOSE = {"Connection": "close"}  # the rest of an unread body is not worth reading
log = logging.getLogger("uvicorn.error")  # uvicorn prints it on stderr


def problem(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """An error answer: one JSON line naming the problem."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def unexpected(name: str, exc: Exception) -> JSONResponse:
    """The answer to a request that ended in an exception: a client gone mid-upload is one
    log line, anything else a bug (logged with its traceback, answered 500)."""
    name = name[:200]  # a client-chosen name
    if isinstance(exc, ClientDisconnect):
        log.warning("%s: the client disconnected before its upload ended", name)
        return problem(CLIENT_GONE, "the client disconnected")
    log.error("%s: the request failed", name, exc_info=exc)
    return problem(500, f"{name}: internal error: {type(exc).__name__}")
