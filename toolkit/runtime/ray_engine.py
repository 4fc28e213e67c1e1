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
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.runtime.inputs import InputItem
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor, plan_inference


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


class RayEngine:
    """The Ray engine: rows from an actor pool on Ray Data, in input order; no split."""

    def __init__(self, model: str | Path, options: PredictorOptions, job):
        """The pre-flight (--workers, the plan, the device), before Ray or --out; `job` is
        the InferenceJob (batch size, actors, address, overlay)."""
        if job.ray_workers < 1:
            raise CnnkitError(f"--workers {job.ray_workers}: must be at least 1")
        plan_inference(model, options)
        self.model, self.workers, self.address = str(model), job.ray_workers, job.ray_address
        self.batch_size, self.keep_image = job.batch_size, job.overlay
        if options.session.threads is None:  # actors share the cores
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            options = replace(options, session=replace(options.session, threads=threads))
        self.options = options
        self.provider = "unknown"  # what the actors report with their first batch
        self.ray = None
        self.started = False  # whether we started Ray (and so shut it down)

    def rows(self, items: list[InputItem], save_mask) -> Iterator[list[dict]]:
        """Start Ray (or connect to --address), then row batches as they stream back."""
        if not items:
            return iter(())
        self.start()
        return self.stream(items, save_mask)

    def split(self, seconds: float) -> None:
        """The actors' time is theirs: no split."""
        return None

    def start(self) -> None:
        """Connect to --address or start a local Ray."""
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

    def dataset(self, items: list[InputItem], save_mask):
        """The pending inputs as an ordered dataset mapped by the actor pool."""
        ray = self.ray
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # the runner draws its own bar
        context.print_on_execution_start = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-dataset INFO lines
        rows = [
            {"key": it.key, "path": str(it.path), "index": -1 if it.index is None else it.index}
            for it in items
        ]
        return ray.data.from_items(rows).map_batches(
            PredictActor,
            fn_constructor_kwargs={
                "model": self.model,
                "options": self.options,
                "save_mask": save_mask,
                "keep_image": self.keep_image,
            },
            batch_size=self.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=1,
        )

    def stream(self, items: list[InputItem], save_mask) -> Iterator[list[dict]]:
        """Row batches in input order; an actor's user error is raised here, once."""
        try:
            batches = self.dataset(items, save_mask).iter_batches(
                batch_format="numpy", batch_size=None
            )
            for batch in batches:
                if batch["fatal"][0]:
                    raise CnnkitError(str(batch["fatal"][0]))
                self.provider = str(batch["provider"][0])
                yield [json.loads(text) for text in batch["row"]]
        finally:
            if self.started:
                self.ray.shutdown()
