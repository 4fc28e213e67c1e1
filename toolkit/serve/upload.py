"""Reading a predict body: raw bytes (image or .npy) or a multipart upload, size-limited.

The body is streamed and refused as soon as it passes the limit, so a client cannot make
the server buffer more than --max-body bytes.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

DEFAULT_KEY = "request"  # the row's "path" when the client names nothing


class BodyTooLarge(Exception):
    """The body is over --max-body (413)."""


class BadUpload(Exception):
    """The body cannot hold an input: a multipart request without a file (400)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused early (BodyTooLarge) once it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_large = f"the body is over the limit of {limit:,} bytes (--max-body)"
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def replay(body: bytes):
    """An ASGI receive callable that hands over an already-read body."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def read_upload(request: Request, limit: int) -> tuple[str, bytes, str]:
    """(key, bytes, content type) of the input; the key is ?key=, the file name or 'request'."""
    body = await read_body(request, limit)
    key = request.query_params.get("key") or DEFAULT_KEY
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return key, body, content_type
    try:
        form = await Request(request.scope, replay(body)).form(max_files=1, max_fields=16)
    except (MultiPartException, HTTPException) as exc:
        raise BadUpload(f"bad multipart body: {getattr(exc, 'detail', exc)}") from None
    try:
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not files:
            raise BadUpload("the multipart body has no file part")
        data = await files[0].read()
        key = request.query_params.get("key") or files[0].filename or DEFAULT_KEY
        return key, data, files[0].content_type or ""
    finally:
        await form.close()
