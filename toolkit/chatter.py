"""Silencing of chatty third-party tools (torch-free, so the runtime can use it too)."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator


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
