"""Prometheus metrics of the server (prometheus-client), one registry per app."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TIME_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServeMetrics:
    """Requests by status, queue depth, batch sizes, queue wait and compute time."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cnnkit_requests",
            "Predict requests answered, by model and HTTP status.",
            ["model", "status"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "cnnkit_queue_depth",
            "Requests holding a slot of --max-queue: uploading, decoding or waiting for a batch.",
            ["model"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "cnnkit_batch_size",
            "Requests per session.run.",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_wait = Histogram(
            "cnnkit_queue_wait_seconds",
            "Time a request waited in the queue before its batch ran.",
            ["model"],
            buckets=TIME_BUCKETS,
            registry=self.registry,
        )
        self.compute = Histogram(
            "cnnkit_compute_seconds",
            "Time of one batch: session.run and the rows.",
            ["model"],
            buckets=TIME_BUCKETS,
            registry=self.registry,
        )

    def model(self, name: str) -> ModelMetrics:
        """The children labelled with one model's name."""
        return ModelMetrics(
            self.queue_depth.labels(name),
            self.batch_size.labels(name),
            self.queue_wait.labels(name),
            self.compute.labels(name),
        )

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


@dataclass(frozen=True)
class ModelMetrics:
    """One model's metric children, as the batcher updates them."""

    queue_depth: Gauge
    batch_size: Histogram
    queue_wait: Histogram
    compute: Histogram

    def observe_batch(self, size: int, waits: list[float], compute: float) -> None:
        """Record one batch: its size, each request's queue wait, its compute time."""
        self.batch_size.observe(size)
        for wait in waits:
            self.queue_wait.observe(wait)
        self.compute.observe(compute)
