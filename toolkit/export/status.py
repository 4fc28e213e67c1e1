"""Status lines on stderr for slow steps, and silencing of chatty third-party tools."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

from rich.console import Console

from toolkit import progress


@contextlib.contextmanager
def status(message: str, quiet: bool = False) -> Iterator[None]:
    """A transient spinner line on stderr while a step runs (only on a terminal, not quiet)."""
    if not progress.enabled(quiet):
        yield
        return
    # Bound to the real stream now: `captured_chatter` swaps sys.stderr while the step runs.
    console = Console(file=sys.stderr, highlight=False)
    with console.status(message):
        yield


@contextlib.contextmanager
def captured_chatter() -> Iterator[io.StringIO]:
    """Swallow the prints, log records and warnings of exporters and quantizers.

    torch.onnx, onnxscript and onnxruntime.quantization talk a lot (version-conversion
    tracebacks, "torchvision is not installed", calibration progress); the caller decides
    what is worth a line. What they printed is kept in the yielded buffer for error messages.
    """
    buffer = io.StringIO()
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def silenced_fds() -> Iterator[None]:
    """Send C-level writes to fds 1 and 2 to a scratch file (the TorchScript exporter's
    C++ logger prints whole IR graphs to stderr on failure, past Python's redirection)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
