"""`--engine local`: one Predictor in this process, decoding a few batches ahead of it.

Decoding and preprocessing run in a thread pool a few batches ahead of session.run (a
bounded prefetch window), so the model stays busy and memory stays bounded; rows come out
in input order. Decode threads and onnxruntime's share the cores (`plan_workers`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from toolkit.runtime.inputs import InputItem
from toolkit.runtime.options import PredictorOptions
from toolkit.runtime.predictor import Predictor
from toolkit.runtime.workers import StageTimes, plan_workers


def batches(items: list, size: int) -> list[list]:
    """Consecutive chunks of `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def local_rows(
    predictor: Predictor,
    items: list[InputItem],
    *,
    batch_size: int,
    workers: int,
    save_mask=None,
    keep_image: bool = False,
    times: StageTimes | None = None,
) -> Iterator[list[dict]]:
    """Row batches in input order; decoding runs `workers` threads ahead of the model."""
    times = times if times is not None else StageTimes()
    chunks = iter(batches(items, batch_size))
    window: deque = deque()
    prefetch = max(2, workers)  # batches decoded ahead: bounded memory, busy model

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:

        def submit(chunk: list[InputItem]) -> None:
            futures = [
                pool.submit(times.timed_decode, predictor.try_decode, item, keep_image)
                for item in chunk
            ]
            window.append((chunk, futures))

        for _ in range(prefetch):
            chunk = next(chunks, None)
            if chunk is not None:
                submit(chunk)
        while window:
            chunk, futures = window.popleft()
            following = next(chunks, None)
            if following is not None:
                submit(following)
            waited = time.perf_counter()
            decoded = [future.result() for future in futures]
            started = time.perf_counter()
            times.idle_s += started - waited
            rows = predictor.rows([item.key for item in chunk], decoded, save_mask)
            times.infer_s.append(time.perf_counter() - started)
            yield rows


class LocalEngine:
    """The local engine: rows from one Predictor, `split` says where the time went."""

    def __init__(self, model: str | Path, options: PredictorOptions, job, *, quiet: bool):
        """Open the model (its test run is the pre-flight); `job` is the InferenceJob."""
        plan = plan_workers(job.workers, options.session.threads)
        # Decode threads share the cores with onnxruntime's: its idle threads must not spin
        # (unless --spin).
        spinning = options.session.spinning is True
        session = replace(options.session, threads=plan.threads, spinning=spinning)
        self.predictor = Predictor(model, replace(options, session=session), quiet=quiet)
        self.workers, self.threads = plan.workers, plan.threads
        self.batch_size, self.keep_image = job.batch_size, job.overlay
        self.times = StageTimes()

    @property
    def provider(self) -> str:
        """The execution provider that runs the model."""
        return self.predictor.provider

    def rows(self, items: list[InputItem], save_mask) -> Iterator[list[dict]]:
        """Row batches in input order."""
        return local_rows(
            self.predictor,
            items,
            batch_size=self.batch_size,
            workers=self.workers,
            save_mask=save_mask,
            keep_image=self.keep_image,
            times=self.times,
        )

    def split(self, seconds: float) -> dict:
        """Decode mode, decode workers, onnxruntime threads and where the loop's time went."""
        return {
            "decode": self.predictor.decode_mode,
            "workers": self.workers,
            "threads": self.threads,
            **self.times.summary(seconds),
        }
