"""The dynamic batcher: one queue per model, one thread per session instance.

A batch runs when `max_batch` requests wait or the oldest has waited `max_delay_ms`,
whichever comes first (Triton's max_queue_delay, Ray Serve's batch_wait_timeout_s), and
at once when no other admitted request is still uploading or decoding: waiting for requests
nobody has sent would only add latency (a lone client pays no --max-delay-ms), unless
`--patient` asks for Triton's behaviour of always waiting out the delay. Each
instance thread owns one Predictor, so a session is never run by two threads at once;
`--instances N` opens N sessions. Rows come from `Predictor.output_rows`, the code path
`cnnkit infer` writes results.jsonl with, next to the model's output for the v2
protocol; fixed-batch padding and CUDA IOBinding come
from `runtime.session.run_batch` underneath it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import Decoded
from toolkit.serve.config import BatchSettings
from toolkit.serve.metrics import ModelMetrics


@dataclass(frozen=True)
class Answer:
    """What a request gets back: its row, and the model's output for it (v2 returns both)."""

    row: dict
    output: np.ndarray


@dataclass
class Pending:
    """One admitted request waiting for its row."""

    key: str
    decoded: Decoded
    queued: float = field(default_factory=time.perf_counter)
    future: Future = field(default_factory=Future)


class Batcher:
    """Queue of decoded requests for one model, drained in batches by instance threads."""

    def __init__(self, name: str, predictors: list[Predictor], settings: BatchSettings, metrics):
        self.name, self.settings = name, settings
        self.predictors = predictors
        self.metrics: ModelMetrics = metrics
        self.queue: deque[Pending] = deque()
        self.admitted = 0  # requests holding a queue slot: uploading, decoding or queued
        self.hurrying = False  # the stop signal came: nothing waits out --max-delay-ms
        self.closing = False
        self.last_call = 0.0  # closing: admitted requests still decoding may come until then
        self.condition = threading.Condition()
        self.threads = [
            threading.Thread(target=self.loop, args=(p,), name=f"batch-{name}-{i}", daemon=True)
            for i, p in enumerate(predictors)
        ]
        for thread in self.threads:
            thread.start()

    def admit(self, count: int = 1) -> bool:
        """Reserve queue slots for a new request's inputs; False when --max-queue would be
        passed (or the batcher is closed)."""
        with self.condition:
            if self.closing or self.admitted + count > self.settings.max_queue:
                return False
            self.admitted += count
            self.metrics.queue_depth.set(self.admitted)
            return True

    def release(self, count: int = 1) -> None:
        """Give back slots of inputs that never reached the queue (on every way out: bad
        input, a slow upload, a timeout, a disconnect, a bug)."""
        with self.condition:
            self.admitted -= count
            self.metrics.queue_depth.set(self.admitted)
            self.condition.notify_all()  # a batch waiting for these inputs, or a closing batcher

    def submit(self, key: str, decoded: Decoded) -> Future:
        """Queue an admitted request; the future gets its Answer (or the batch's exception)."""
        pending = Pending(key, decoded)
        with self.condition:
            self.queue.append(pending)
            self.condition.notify()
        return pending.future

    def due(self, wait: float) -> bool:
        """Whether the queued requests should run now (called holding the lock)."""
        on_their_way = self.admitted - len(self.queue)  # admitted, still uploading or decoding
        return (
            len(self.queue) >= self.settings.max_batch
            or wait <= 0
            or (on_their_way == 0 and not self.settings.patient)
            or self.hurrying
            or self.closing
        )

    def take(self) -> list[Pending]:
        """Block until a batch is due, then pop it; [] when closing with nothing queued."""
        delay = self.settings.max_delay_ms / 1000
        with self.condition:
            while True:
                if not self.queue:
                    # Closing: requests admitted but still decoding get their batch too
                    # (a reload retires this batcher under load), for at most --timeout.
                    late = self.last_call - time.perf_counter()
                    if self.closing and (self.admitted == 0 or late <= 0):
                        return []
                    self.condition.wait(timeout=late if self.closing else None)
                    continue
                wait = self.queue[0].queued + delay - time.perf_counter()
                if self.due(wait):
                    break
                self.condition.wait(timeout=wait)
            count = min(len(self.queue), self.settings.max_batch)
            taken = [self.queue.popleft() for _ in range(count)]
            self.admitted -= count
            self.metrics.queue_depth.set(self.admitted)
        # A request that timed out (504) was cancelled; it does not take a batch seat.
        return [p for p in taken if p.future.set_running_or_notify_cancel()]

    def loop(self, predictor: Predictor) -> None:
        """One instance: run batches until closed and the queue is empty."""
        while True:
            batch = self.take()
            if batch:
                self.run(predictor, batch)
            elif self.closing:
                return

    def run(self, predictor: Predictor, batch: list[Pending]) -> None:
        """One session.run for the batch; every request gets its row or the batch's error."""
        start = time.perf_counter()
        decoded = [p.decoded for p in batch]
        try:
            output = predictor.infer(decoded)
            rows = predictor.output_rows([p.key for p in batch], decoded, output)
        except Exception as exc:  # a model failing fails this batch, not the server
            for pending in batch:
                pending.future.set_exception(exc)
            return
        compute = time.perf_counter() - start
        self.metrics.observe_batch(len(batch), [start - p.queued for p in batch], compute)
        for pending, row, one in zip(batch, rows, output, strict=True):
            pending.future.set_result(Answer(row, one))

    def stop_waiting(self) -> None:
        """On the stop signal: queued requests run now, and later ones without waiting for
        --max-delay-ms (requests still uploading are admitted and answered as usual)."""
        with self.condition:
            self.hurrying = True
            self.condition.notify_all()

    def close(self) -> None:
        """Run what is queued and what admitted requests still submit (up to --timeout),
        then stop the instance threads."""
        with self.condition:
            self.closing = True
            self.last_call = time.perf_counter() + self.settings.timeout_s
            self.condition.notify_all()
        for thread in self.threads:
            thread.join()
