"""Running the server: bind the port, start uvicorn, shut down gracefully on SIGTERM.

On the signal the batchers stop waiting out --max-delay-ms (queued requests run at once)
and uploads that stall are dropped; uvicorn's own shutdown stops accepting connections and
lets in-flight requests finish (each is bounded by --timeout, and uvicorn's graceful
timeout backs that up); the app's lifespan then stops the batchers' threads, so every
accepted request is answered. uvicorn re-raises the captured signal after that (the
process would die by SIGTERM); `GracefulServer` keeps the signal handling but returns
instead, and ignores later signals, so the CLI exits 0 however many SIGTERMs it gets.

Slow clients are bounded by uvicorn's limits (h11's head size, the keep-alive timeout),
a deadline on request heads (protocol.py) and one on bodies (--timeout, upload.py).
"""

from __future__ import annotations

import contextlib
import math
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from toolkit.errors import CnnkitError
from toolkit.serve.app import build_app
from toolkit.serve.config import ANNOUNCEMENT, ServeConfig
from toolkit.serve.models import ModelServer
from toolkit.serve.protocol import MAX_HEADER_BYTES, bounded_h11
from toolkit.serve.repository import Repository
from toolkit.serve.upload import STALL_AFTER_STOP_S

HANDLED = (signal.SIGINT, signal.SIGTERM)
KEEP_ALIVE_S = 5  # an idle connection is closed after this long (uvicorn's default)
SHUTDOWN_SLACK_S = 3  # past --timeout + the stall limit, uvicorn cancels what is left


class GracefulServer(uvicorn.Server):
    """uvicorn.Server that records the stop signal instead of re-raising it."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]):
        super().__init__(config)
        self.on_stop = on_stop
        self.stopped_by: int | None = None

    def handle_exit(self, sig: int, frame) -> None:
        if self.stopped_by is None:
            self.stopped_by = sig
            # Not here: a signal handler runs on the event loop's thread, which may hold a
            # batcher's lock at this very moment.
            threading.Thread(target=self.on_stop, name="stop-waiting", daemon=True).start()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        for sig in HANDLED:
            signal.signal(sig, self.handle_exit)
        try:
            yield
        finally:
            # Not the previous handlers: a second SIGTERM now, late in the shutdown, would
            # end the process by the signal instead of the exit code the first one earned.
            for sig in HANDLED:
                signal.signal(sig, signal.SIG_IGN)


def listen(host: str, port: int) -> socket.socket:
    """A bound socket; a CnnkitError naming --host/--port when the address is not free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # now, so clients told the port below can connect at once
    except OSError as exc:
        sock.close()
        raise CnnkitError(f"--host {host} --port {port}: cannot listen there ({exc})") from None
    return sock


def describe(server: ModelServer, url: str) -> str:
    """The one line that says what is served where."""
    parts = []
    for model in server.models.values():
        info = model.info()
        size = "x".join(map(str, info["input_size"]))
        batching = info["batching"]
        parts.append(
            f"{model.name} ({info['task']} {size} on {info['provider']},"
            f" max-batch {batching['max_batch']}, max-delay {batching['max_delay_ms']:g} ms,"
            f" {batching['instances']} instance(s))"
        )
    return f"{ANNOUNCEMENT}{url}: " + "; ".join(parts)


def open_repository(server: ModelServer, config: ServeConfig) -> Repository | None:
    """The --model-repository's models loaded into the server, and --poll watching it."""
    if config.repository is None:
        return None
    settings = config.repository
    repository = Repository(settings.root, settings.versions, server)
    repository.load_all()
    if settings.poll_s:
        poll = threading.Thread(
            target=repository.poll, args=(settings.poll_s,), name="poll", daemon=True
        )
        poll.start()
    return repository


def serve(config: ServeConfig, announce: Callable[[str], None] = print) -> int | None:
    """Serve until SIGTERM/SIGINT; every accepted request is answered. The stop signal."""
    config.check()
    if config.engine == "ray":
        try:
            from toolkit.serve.ray_serve import serve_on_ray
        except ImportError:
            raise CnnkitError(
                "--engine ray needs Ray Serve: pip install 'cnnkit[ray-serve]'"
            ) from None
        return serve_on_ray(config, announce)
    sock = listen(config.host, config.port)
    try:
        server = ModelServer(config)  # a bad model fails here, before anything is served
    except BaseException:
        sock.close()
        raise
    try:
        repository = open_repository(server, config)
    except BaseException:
        server.close()
        sock.close()
        raise
    app = build_app(server, repository)
    timeout = config.batching.timeout_s
    uv_config = uvicorn.Config(
        app,
        http=bounded_h11(header_timeout_s=timeout),
        ws="none",
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_S,
        log_level="warning",
        access_log=False,
        lifespan="on",
        # Each request is bounded by --timeout already; this only backs it up.
        timeout_graceful_shutdown=math.ceil(timeout + STALL_AFTER_STOP_S + SHUTDOWN_SLACK_S),
    )

    runner = GracefulServer(uv_config, server.stop_waiting)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(describe(server, f"http://{shown}:{port}"))
    runner.run(sockets=[sock])
    return runner.stopped_by
