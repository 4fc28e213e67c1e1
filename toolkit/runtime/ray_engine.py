"""`--engine ray`: the same job on Ray Data, an actor pool of onnxruntime sessions.

The pending inputs become a dataset of (key, path, index) rows; `map_batches` hands
batches to `PredictActor`s, each loading the model once and predicting through the same
`Predictor` the local engine uses, so rows are identical. Order is preserved and the
driver writes results.jsonl as batches stream back. Masks are written by the actors, so
on a multi-machine cluster --out must be a shared folder.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.runtime.inputs import InputItem
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor


def import_ray():
    """Ray, or a CnnkitError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise CnnkitError("--engine ray needs Ray: pip install 'cnnkit[ray]'") from None
    return ray


class PredictActor:
    """One actor: one model load, then batches of input rows -> JSON result rows.

    A user error (bad --device, flags that do not fit the model) is sent back as a
    "fatal" column rather than raised: Ray reports an actor that dies in __init__ as
    ActorDiedError with the original exception flattened into text.
    """

    def __init__(self, model: str, options: PredictorOptions, save_mask, keep_image: bool):
        self.save_mask = save_mask
        self.keep_image = keep_image
        self.predictor, self.fatal = None, ""
        try:
            self.predictor = Predictor(model, options, quiet=True)
        except CnnkitError as exc:
            self.fatal = str(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        count = len(batch["key"])
        rows, fatal = [], self.fatal
        if not fatal:
            try:
                rows = self.predict(batch)
            except CnnkitError as exc:
                fatal = str(exc)
        provider = self.predictor.provider if self.predictor else ""
        return {
            "row": np.array(rows or [""] * count, dtype=object),
            "provider": np.array([provider] * count, dtype=object),
            "fatal": np.array([fatal] * count, dtype=object),
        }

    def predict(self, batch: dict[str, np.ndarray]) -> list[str]:
        """JSON rows for one batch of (key, path, index)."""
        items = [
            InputItem(str(key), Path(str(path)), None if index < 0 else int(index))
            for key, path, index in zip(batch["key"], batch["path"], batch["index"], strict=True)
        ]
        decoded = [self.predictor.try_decode(item, self.keep_image) for item in items]
        rows = self.predictor.rows([item.key for item in items], decoded, self.save_mask)
        return [json.dumps(row, ensure_ascii=False) for row in rows]


class RayJob:
    """Runs pending inputs on Ray; `rows()` yields row batches in input order."""

    def __init__(self, model, items: list[InputItem], options: PredictorOptions, job, save_mask):
        """`job`: the InferenceJob (batch size, actors, address, overlay)."""
        if job.ray_workers < 1:
            raise CnnkitError(f"--workers {job.ray_workers}: must be at least 1")
        workers = job.ray_workers
        self.model, self.items = str(model), items
        self.batch_size, self.workers, self.address = job.batch_size, workers, job.ray_address
        self.save_mask, self.keep_image = save_mask, job.overlay
        self.provider = "unknown"
        self.ray = None
        self.started = False  # whether we started Ray (and so shut it down)
        if options.session.threads is None:  # actors share the cores
            options = options.updated(threads=max(1, (os.cpu_count() or 1) // workers))
        self.options = options

    def start(self) -> None:
        """Connect to --address or start a local Ray (run_inference has checked the model)."""
        if not self.items:
            return
        ray = self.ray = import_ray()
        if ray.is_initialized():
            return
        self.started = True
        if self.address:
            try:
                ray.init(address=self.address, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise CnnkitError(
                    f"--address {self.address}: cannot connect to Ray ({exc})"
                ) from None
        else:
            cpus = max(self.workers, os.cpu_count() or 1)
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING)

    def dataset(self, ray):
        """The pending inputs as an ordered dataset mapped by the actor pool."""
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the runner draws its own bar
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines
        rows = [
            {"key": it.key, "path": str(it.path), "index": -1 if it.index is None else it.index}
            for it in self.items
        ]
        return ray.data.from_items(rows).map_batches(
            PredictActor,
            fn_constructor_kwargs={
                "model": self.model,
                "options": self.options,
                "save_mask": self.save_mask,
                "keep_image": self.keep_image,
            },
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=1,
        )

    def rows(self):
        """Row batches as they stream back, in input order."""
        if not self.items:
            return
        if self.ray is None:
            self.start()
        ray = self.ray
        try:
            for batch in self.dataset(ray).iter_batches(batch_format="numpy", batch_size=None):
                if batch["fatal"][0]:
                    raise CnnkitError(str(batch["fatal"][0]))
                self.provider = str(batch["provider"][0])
                yield [json.loads(text) for text in batch["row"]]
        finally:
            if self.started:
                ray.shutdown()
