"""uvicorn's h11 protocol with the two limits it lacks: a deadline on request headers, and
JSON for the 400 it answers itself.

uvicorn bounds the size of headers (h11's max incomplete event size) and the idle time
between requests (`timeout_keep_alive`), but not the time headers take: every byte
received resets the keep-alive timer, so a client sending one byte a second holds its
connection forever (uvicorn issue #157, "--timeout-request-start", never implemented).
Here a connection that has not sent a complete request head within `header_timeout_s` of
opening, or of its previous answer, is answered 408 (when it sent part of one) and closed.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_HEADER_BYTES = 16 * 1024  # h11's default, stated: a larger request head gets 400


class BoundedH11Protocol(H11Protocol):
    """H11Protocol whose request heads must arrive within `header_timeout_s`."""

    header_timeout_s: float = 30.0  # set by `bounded_h11`

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.header_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self.await_head()

    def on_response_complete(self) -> None:
        self.await_head()  # the next request on this connection has the same deadline
        super().on_response_complete()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cancel_head_deadline()  # a request head arrived: --timeout takes over

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_head_deadline()
        super().connection_lost(exc)

    def await_head(self) -> None:
        """Start the deadline for the next request head."""
        self.cancel_head_deadline()
        self.header_deadline = self.loop.call_later(self.header_timeout_s, self.head_too_slow)

    def cancel_head_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def head_too_slow(self) -> None:
        """The deadline passed: 408 to a client that sent part of a head, then close."""
        self.header_deadline = None
        if self.transport.is_closing():
            return
        if self.conn.trailing_data[0] and self.conn.our_state is h11.IDLE:
            message = (
                f"the request head did not arrive within {self.header_timeout_s:g} s (--timeout)"
            )
            self.send_error(408, message)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        message = f"invalid HTTP request (malformed, or a head over {MAX_HEADER_BYTES:,} bytes)"
        self.send_error(400, message)
        self.transport.close()

    def send_error(self, status: int, message: str) -> None:
        """A complete error answer whose body is one JSON line (the connection then closes)."""
        body = json.dumps({"error": message}).encode() + b"\n"
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        reason = HTTPStatus(status).phrase.encode()
        head = h11.Response(status_code=status, headers=headers, reason=reason)
        for event in (head, h11.Data(data=body)):
            self.transport.write(self.conn.send(event))
        self.transport.write(self.conn.send(h11.EndOfMessage()))


def bounded_h11(header_timeout_s: float) -> type[BoundedH11Protocol]:
    """The protocol class for uvicorn.Config(http=...) with this header deadline."""
    return type("BoundedH11", (BoundedH11Protocol,), {"header_timeout_s": header_timeout_s})
