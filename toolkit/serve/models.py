"""The served models: sessions opened once, a batcher each, and their metadata."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor
from toolkit.serve.batcher import Batcher
from toolkit.serve.config import BatchSettings, ServeConfig
from toolkit.serve.metrics import ServeMetrics
from toolkit.serve.upload import Uploads


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

    @property
    def predictor(self) -> Predictor:
        """The first instance: decoding only reads its spec, which all instances share."""
        return self.batcher.predictors[0]

    def info(self) -> dict:
        """Metadata: task, classes, input size, normalisation, provider, batching."""
        spec, handle = self.predictor.spec, self.predictor.handle
        return {
            "name": self.name,
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
    """Every served model, the decode pool, the uploads being read and the metrics of one
    server process."""

    def __init__(self, config: ServeConfig):
        self.metrics = ServeMetrics()
        self.uploads = Uploads()
        self.max_body_bytes = config.max_body_bytes
        self.closing = False
        self.models: dict[str, ServedModel] = {}
        batching: BatchSettings = config.batching
        try:
            for name, path in config.models.items():
                predictors = open_predictors(
                    path, batching.instances, config.predictor, config.quiet
                )
                batcher = Batcher(name, predictors, batching, self.metrics.model(name))
                self.models[name] = ServedModel(name, path, batcher)
        except BaseException:
            self.close()
            raise
        self.pool = ThreadPoolExecutor(config.workers, thread_name_prefix="decode")

    def stop_waiting(self) -> None:
        """On the stop signal: not ready any more, no request waits for a fuller batch, and
        no stalled upload holds the shutdown."""
        self.closing = True
        self.uploads.stop()
        for model in self.models.values():
            model.batcher.stop_waiting()

    def close(self) -> None:
        """Answer every queued request, then stop the batchers and the decode pool."""
        self.closing = True
        for model in self.models.values():
            model.batcher.close()
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
