"""What `cnnkit serve` is asked to do: models, batching, limits (one typed object)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.onnxfile import folder_message
from toolkit.runtime.options import PredictorOptions

ENGINES = ("local", "ray")
# The ranges of serve's numeric flags (the CLI's option types state the same ones).
MAX_BATCH, MAX_QUEUE, MAX_INSTANCES = 4096, 100_000, 256
MAX_DELAY_MS = 60_000.0  # a minute
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 0.001, 3600.0
MAX_BODY_BYTES = 1 << 31  # 2 GiB; a queue of --max-queue bodies must fit in memory
MAX_WORKERS, MAX_REPLICAS = 256, 1024
ANNOUNCEMENT = "serving on "  # the stderr line a server prints once it listens: URL, models


def check_range(flag: str, value: float, low: float, high: float) -> None:
    """A CnnkitError naming `flag` unless `value` is a finite number in [low, high]."""
    if not (math.isfinite(value) and low <= value <= high):
        raise CnnkitError(f"{flag} {value}: expected a number in {low}..{high}")


def read_announcement(stderr) -> str:
    """Read a starting server's stderr up to its announcement line and return that line;
    CnnkitError with what it printed instead when it exits first."""
    lines = []
    for line in stderr:
        if line.startswith(ANNOUNCEMENT):
            return line
        lines.append(line)
    raise CnnkitError(f"cnnkit serve did not start: {''.join(lines).strip()}")


def announced_url(line: str) -> str:
    """The base URL in an announcement line ("serving on URL: ...")."""
    return line[len(ANNOUNCEMENT) :].split()[0].rstrip(":")


@dataclass(frozen=True)
class BatchSettings:
    """The dynamic batcher of one model: when a batch runs and how many may wait."""

    max_batch: int = 16  # run when this many requests wait ...
    max_delay_ms: float = 5.0  # ... or when the oldest has waited this long
    max_queue: int = 256  # admitted requests not yet in a batch; more get 503
    instances: int = 1  # sessions per model, each run by its own thread
    timeout_s: float = 30.0  # per request, from arrival to answer; later gets 504
    patient: bool = False  # wait out max_delay_ms even when no other request is on its way

    def check(self) -> BatchSettings:
        """Self, or a CnnkitError naming the flag that is out of range (or not finite)."""
        for flag, value, low, high in (
            ("--max-batch", self.max_batch, 1, MAX_BATCH),
            ("--max-queue", self.max_queue, 1, MAX_QUEUE),
            ("--instances", self.instances, 1, MAX_INSTANCES),
            ("--max-delay-ms", self.max_delay_ms, 0, MAX_DELAY_MS),
            ("--timeout", self.timeout_s, MIN_TIMEOUT_S, MAX_TIMEOUT_S),
        ):
            check_range(flag, value, low, high)
        return self


@dataclass(frozen=True)
class RepositorySettings:
    """--model-repository DIR, --versions, --poll: a folder of models kept in step."""

    root: Path  # DIR/NAME/VERSION/model.onnx
    versions: str = "latest"  # or "all": which versions are served
    poll_s: float | None = None  # seconds between looks at the folder; None: no polling

    def check(self) -> RepositorySettings:
        """Self, or a CnnkitError naming the flag that is wrong."""
        if self.versions not in ("latest", "all"):
            raise CnnkitError(f"--versions {self.versions!r}: expected latest or all")
        if self.poll_s is not None and not self.poll_s > 0:
            raise CnnkitError(f"--poll {self.poll_s:g}: must be more than 0 seconds")
        return self


@dataclass(frozen=True)
class ModelSource:
    """What is served: model files by name, or a model repository."""

    files: dict[str, Path]
    repository: RepositorySettings | None = None


@dataclass(frozen=True)
class ServeConfig:
    """Everything `cnnkit serve` needs; `predictor` holds the Predictor's options."""

    models: dict[str, Path]  # name in the URL -> .onnx file
    host: str = "127.0.0.1"
    port: int = 8000
    batching: BatchSettings = field(default_factory=BatchSettings)
    max_body_bytes: int = 16 * 1024 * 1024  # larger bodies get 413
    workers: int = 2  # decode + preprocess threads
    engine: str = "local"  # or "ray": a Ray Serve deployment per model
    replicas: int = 1  # Ray Serve replicas per model
    ray_address: str | None = None  # None: start a local Ray
    predictor: PredictorOptions = field(default_factory=PredictorOptions)
    quiet: bool = False
    repository: RepositorySettings | None = None  # instead of `models`

    def check(self) -> ServeConfig:
        """Self, or a CnnkitError naming the flag that is wrong."""
        self.batching.check()
        if not self.models and self.repository is None:
            raise CnnkitError(
                "no model given: cnnkit serve MODEL.onnx [MODEL2.onnx ...]"
                " or cnnkit serve --model-repository DIR"
            )
        if self.models and self.repository is not None:
            raise CnnkitError("give MODEL files or --model-repository, not both")
        if self.repository is not None:
            self.repository.check()
            if self.engine != "local":
                raise CnnkitError("--model-repository: served by --engine local only")
        if self.engine not in ENGINES:
            raise CnnkitError(f"--engine {self.engine!r}: expected one of {', '.join(ENGINES)}")
        for flag, value, low, high in (
            ("--max-body", self.max_body_bytes, 1, MAX_BODY_BYTES),
            ("--workers", self.workers, 1, MAX_WORKERS),
            ("--replicas", self.replicas, 1, MAX_REPLICAS),
            ("--port", self.port, 0, 65535),
        ):
            check_range(flag, value, low, high)
        return self


def model_names(specs: list[str]) -> dict[str, Path]:
    """MODEL.onnx or NAME=MODEL.onnx arguments -> {name: path}; names must be unique."""
    models: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or "/" in name:
            name, path = Path(spec).stem, spec
        if Path(path).is_dir():
            raise CnnkitError(folder_message(Path(path)))
        if not Path(path).is_file():
            raise CnnkitError(f"{path}: no such model file")
        if name in models:
            raise CnnkitError(f"two models are named {name!r}; name them NAME=PATH")
        models[name] = Path(path)
    return models
