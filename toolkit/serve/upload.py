"""Reading a predict body: raw bytes (image or .npy) or a multipart upload, size- and
time-limited.

The body is streamed and refused as soon as it passes the limit, so a client cannot make
the server buffer more than --max-body bytes. It must arrive before the request's
deadline (--timeout, which covers the upload too), and after the stop signal it must keep
arriving: an upload stalled for STALL_AFTER_STOP_S is dropped, because uvicorn's shutdown
waits for every open request and a stalled client would hold the process forever.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request

DEFAULT_KEY = "request"  # the row's "path" when the client names nothing
STALL_AFTER_STOP_S = 2.0  # after the stop signal, an upload silent this long is dropped
POLL_S = 0.25  # how often a waiting upload looks at its deadline and the stop signal


class BodyTooLarge(Exception):
    """The body is over --max-body (413)."""


class BadUpload(Exception):
    """The body cannot hold an input: a multipart request without a file (400)."""


class UploadTooSlow(Exception):
    """The body did not arrive in time (408)."""


class Uploads:
    """Whether the server is stopping, as every upload in progress sees it."""

    def __init__(self, stall_after_stop_s: float = STALL_AFTER_STOP_S):
        self.stall_s = stall_after_stop_s
        self.stopping = False  # set by the stop signal's thread, read by each upload

    def stop(self) -> None:
        """From now on an upload must keep arriving."""
        self.stopping = True

    async def read(self, request: Request, limit: int, deadline: float) -> bytes:
        """The whole body by `deadline` (loop time): BodyTooLarge past `limit` bytes,
        UploadTooSlow when it is late or stalls after the stop signal."""
        return await read_body(request, limit, UploadClock(self, deadline).next_message)


class UploadClock:
    """The time one body has: its deadline and, once the server is stopping, the stall limit.

    It waits for each message at most POLL_S at a time, then looks at both (uvicorn's
    receive keeps what arrived when a wait is cancelled), so the stop signal needs no way
    into the event loop.
    """

    def __init__(self, uploads: Uploads, deadline: float):
        self.uploads, self.deadline = uploads, deadline
        self.quiet_since: float | None = None  # stopping, and nothing arrived since then

    async def next_message(self, receive) -> dict:
        """The next ASGI message of the body; UploadTooSlow when time is up."""
        loop = asyncio.get_running_loop()
        while True:
            wait = max(0.0, min(POLL_S, self.deadline - loop.time()))
            try:
                message = await asyncio.wait_for(receive(), wait)
            except asyncio.TimeoutError:
                self.check(loop.time())
                continue
            self.quiet_since = None
            return message

    def check(self, now: float) -> None:
        """UploadTooSlow past the deadline, or past the stall limit after the stop signal."""
        if now >= self.deadline:
            raise UploadTooSlow("the body did not arrive within the request timeout (--timeout)")
        if self.uploads.stopping:
            self.quiet_since = self.quiet_since or now
            if now - self.quiet_since >= self.uploads.stall_s:
                stall = self.uploads.stall_s
                raise UploadTooSlow(f"the upload stalled for {stall:g} s while the server stops")


async def read_body(request: Request, limit: int, next_message=None) -> bytes:
    """The whole body, refused early (BodyTooLarge) once it passes `limit` bytes; each ASGI
    message comes from `next_message(receive)` (default: wait as long as it takes)."""
    declared = request.headers.get("content-length", "")
    too_large = f"the body is over the limit of {limit:,} bytes (--max-body)"
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(too_large)
    chunks, size = [], 0
    while True:
        message = await (next_message or wait_for_message)(request.receive)
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def wait_for_message(receive) -> dict:
    """The next ASGI message, however long it takes."""
    return await receive()


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
    return await parse_upload(request, await read_body(request, limit))


async def parse_upload(request: Request, body: bytes) -> tuple[str, bytes, str]:
    """(key, bytes, content type) of the input in a body already read."""
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
