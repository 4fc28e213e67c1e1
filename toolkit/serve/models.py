"""The served models: sessions opened once, a batcher each, and their metadata."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor
from toolkit.serve.batcher import Batcher
from toolkit.serve.config import ServeConfig
from toolkit.serve.metrics import ServeMetrics
from toolkit.serve.upload import Uploads
from toolkit.serve.warmup import warm


def open_predictors(
    path: Path, instances: int, options: PredictorOptions, quiet: bool
) -> list[Predictor]:
    """`instances` Predictors (sessions) of one model; they share the cores unless --threads."""
    if options.session.threads is None and instances > 1:
        options = options.updated(threads=max(1, (os.cpu_count() or 1) // instances))
    if options.session.spinning is None:
        # Spinning idle threads take the cores the event loop and the decode pool need next:
        # on 2 cores they cost a lone client more than the run itself (docs/serve.md).
        options = options.updated(spinning=False)
    # Only the first announces defaults and fallbacks; the others would repeat it.
    return [Predictor(path, options, quiet=quiet or i > 0) for i in range(instances)]


@dataclass
class ServedModel:
    """One model behind /v1/models/{name}: its batcher and what clients may ask about it."""

    name: str
    path: Path
    batcher: Batcher
    version: str = "1"

    @property
    def predictor(self) -> Predictor:
        """The first instance: decoding only reads its spec, which all instances share."""
        return self.batcher.predictors[0]

    def info(self) -> dict:
        """Metadata: task, classes, input size, normalisation, provider, batching."""
        spec, handle = self.predictor.spec, self.predictor.handle
        return {
            "name": self.name,
            "version": self.version,
            "file": self.path.name,
            "task": spec.task,
            "classes": list(spec.classes) if spec.classes else None,
            "input_size": [spec.channels, *spec.size],
            "mean": list(spec.mean),
            "std": list(spec.std),
            "resize": spec.resize,
            "provider": self.predictor.provider,
            "device": handle.device,
            "fixed_batch": handle.fixed_batch,
            "topk": self.predictor.topk,
            "batching": asdict(self.batcher.settings),
        }


class ModelServer:
    """Every served model (and version), the decode pool and the metrics of one server.

    `models` maps a name to its default (latest) version, `versions` to all of them; both
    are replaced whole on a (re)load, so a request sees the old or the new set, never a mix.
    """

    def __init__(self, config: ServeConfig):
        self.metrics = ServeMetrics()
        self.config = config
        self.uploads = Uploads()
        self.max_body_bytes = config.max_body_bytes
        self.closing = False
        self.models: dict[str, ServedModel] = {}
        self.versions: dict[str, dict[str, ServedModel]] = {}
        self.swap = threading.Lock()
        try:
            for name, path in config.models.items():
                self.install(name, [("1", path)])
        except BaseException:
            self.close()
            raise
        self.pool = ThreadPoolExecutor(config.workers, thread_name_prefix="decode")

    def open(self, name: str, version: str, path: Path) -> ServedModel:
        """A model's sessions, opened and warmed, behind a new batcher."""
        config, batching = self.config, self.config.batching
        predictors = open_predictors(path, batching.instances, config.predictor, config.quiet)
        for predictor in predictors:
            warm(predictor, batching.max_batch)
        batcher = Batcher(name, predictors, batching, self.metrics.model(name))
        return ServedModel(name, path, batcher, version)

    def install(self, name: str, versions: list, reopen: set | None = None) -> None:
        """Serve `versions` [(version, path)] of `name`, latest first: those in `reopen`
        (default all) are opened and warmed before anything changes, the others kept; then
        one swap, and the replaced batchers finish their queues and close in the background."""
        served = dict(self.versions.get(name, {}))
        opened = {}
        try:
            for version, path in versions:
                if reopen is None or version in reopen or version not in served:
                    opened[version] = self.open(name, version, path)
        except BaseException:
            for model in opened.values():
                model.batcher.close()
            raise
        fresh = {version: opened.get(version) or served[version] for version, _ in versions}
        with self.swap:
            self.versions = {**self.versions, name: fresh}
            self.models = {**self.models, name: fresh[versions[0][0]]}
        self.retire([m for v, m in served.items() if fresh.get(v) is not m])

    def uninstall(self, name: str) -> None:
        """Stop serving a model; its queued requests are still answered."""
        with self.swap:
            versions = self.versions.get(name, {})
            self.versions = {n: v for n, v in self.versions.items() if n != name}
            self.models = {n: m for n, m in self.models.items() if n != name}
        self.retire(list(versions.values()))

    def retire(self, models: list[ServedModel]) -> None:
        """Close replaced batchers off the caller's thread (they answer what they hold)."""
        for model in models:
            threading.Thread(target=model.batcher.close, name=f"retire-{model.name}").start()

    def admitted(self, name: str, version: str | None, count: int = 1):
        """The served model that took `count` queue slots, None when its queue is full, or
        KeyError when nothing by that name (and version) is served. A model swapped out
        while the request was being read is retried on its successor."""
        while True:
            model = self.lookup(name, version)
            if model.batcher.admit(count):
                return model
            if not model.batcher.closing or self.lookup(name, version) is model:
                return None

    def lookup(self, name: str, version: str | None = None) -> ServedModel:
        """The served model (default version) by name; KeyError when there is none."""
        if version is None:
            return self.models[name]
        return self.versions[name][version]

    def stop_waiting(self) -> None:
        """On the stop signal: not ready any more, no request waits for a fuller batch, and
        no stalled upload holds the shutdown."""
        self.closing = True
        self.uploads.stop()
        for model in self.every_model():
            model.batcher.stop_waiting()

    def every_model(self) -> list[ServedModel]:
        """Every served version of every model."""
        return [m for versions in self.versions.values() for m in versions.values()]

    def close(self) -> None:
        """Answer every queued request, then stop the batchers and the decode pool."""
        self.closing = True
        for model in self.every_model():
            model.batcher.close()
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
