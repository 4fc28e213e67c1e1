"""Running the server: bind the port, start uvicorn, shut down gracefully on SIGTERM.

On the signal the batchers stop waiting out --max-delay-ms (queued requests run at once);
uvicorn's own shutdown stops accepting connections and lets in-flight requests finish;
the app's lifespan then stops the batchers' threads, so every accepted request is answered.
uvicorn re-raises the captured signal after that (the process would die by SIGTERM);
`GracefulServer` keeps the signal handling but returns instead, so the CLI exits 0.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from toolkit.errors import CnnkitError
from toolkit.serve.app import build_app
from toolkit.serve.config import ANNOUNCEMENT, ServeConfig
from toolkit.serve.models import ModelServer

HANDLED = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    """uvicorn.Server that records the stop signal instead of re-raising it."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]):
        super().__init__(config)
        self.on_stop = on_stop
        self.stopped_by: int | None = None

    def handle_exit(self, sig: int, frame) -> None:
        self.stopped_by = self.stopped_by or sig
        # Not here: a signal handler runs on the event loop's thread, which may hold a
        # batcher's lock at this very moment.
        threading.Thread(target=self.on_stop, name="stop-waiting", daemon=True).start()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


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
    app = build_app(server)
    uv_config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=None,  # in-flight requests are bounded by --timeout
    )

    runner = GracefulServer(uv_config, server.stop_waiting)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(describe(server, f"http://{shown}:{port}"))
    runner.run(sockets=[sock])
    return runner.stopped_by
