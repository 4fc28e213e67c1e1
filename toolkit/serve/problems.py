"""Error answers: one JSON line `{"error": "..."}` (the Open Inference Protocol's shape too)."""

from __future__ import annotations

from starlette.responses import JSONResponse

RETRY_AFTER_S = 1  # what a 503 tells clients to wait


def problem(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """An error answer: one JSON line naming the problem."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)
