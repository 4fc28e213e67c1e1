"""Test helpers for tests/serve/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.serve.config import announced_url, read_announcement

CNNKIT = Path(sys.executable).parent / "cnnkit"


@dataclass
class Server:
    """A running server process and its base URL."""

    process: subprocess.Popen
    url: str
    announced: str

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send `sig` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def running(*args, cwd: Path) -> Iterator[Server]:
    """`cnnkit serve ARGS --port 0` until the block ends (then SIGTERM, or kill if stuck)."""
    process = subprocess.Popen(
        [str(CNNKIT), "serve", *map(str, args), "--port", "0", "--host", "127.0.0.1"],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"},
    )
    line = read_announcement(process.stderr)
    server = Server(process, announced_url(line), line)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stderr.close()
