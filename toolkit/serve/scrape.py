"""Reading a model's counters from the server's /metrics (Prometheus text)."""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field

from toolkit.errors import CnnkitError

HISTOGRAMS = ("cnnkit_queue_wait_seconds", "cnnkit_compute_seconds", "cnnkit_batch_size")
TOTALS = {f"{name}_{part}" for name in HISTOGRAMS for part in ("sum", "count")}
BATCH_BUCKET = "cnnkit_batch_size_bucket"  # cumulative: batches of at most `le` requests


@dataclass(frozen=True)
class Target:
    """Where the predict requests go."""

    host: str
    port: int
    model: str
    path: str  # /v1/models/NAME/predict or /v2/models/NAME/infer


@dataclass(frozen=True)
class Totals:
    """Cumulative _sum and _count of the model's histograms at one moment."""

    values: dict[str, float]

    def minus(self, earlier: Totals) -> ServerSplit:
        """What happened between `earlier` and this moment."""
        delta = {k: v - earlier.values.get(k, 0.0) for k, v in self.values.items()}

        def mean(name: str, scale: float = 1.0) -> float | None:
            count = delta.get(f"{name}_count", 0.0)
            return delta.get(f"{name}_sum", 0.0) / count * scale if count else None

        return ServerSplit(
            batches=int(delta.get("cnnkit_batch_size_count", 0)),
            mean_batch=mean("cnnkit_batch_size"),
            queue_wait_ms=mean("cnnkit_queue_wait_seconds", 1e3),
            compute_ms=mean("cnnkit_compute_seconds", 1e3),
            batch_sizes=batch_histogram(delta),
        )


def batch_histogram(delta: dict[str, float]) -> dict[str, int]:
    """Batches run per size bucket ("1", "2", "3-4", ...) from the cumulative bucket deltas."""
    bounds = sorted(
        (float(key.partition(":")[2]), value)
        for key, value in delta.items()
        if key.startswith(f"{BATCH_BUCKET}:") and key.partition(":")[2] != "+Inf"
    )
    histogram, below, low = {}, 0.0, 1
    for bound, cumulative in bounds:
        high = int(bound)
        name = str(high) if low >= high else f"{low}-{high}"
        if cumulative - below:
            histogram[name] = int(cumulative - below)
        below, low = cumulative, high + 1
    return histogram


@dataclass(frozen=True)
class ServerSplit:
    """Server side of a measurement: batches run, mean batch, mean queue wait and compute."""

    batches: int
    mean_batch: float | None
    queue_wait_ms: float | None  # per request
    compute_ms: float | None  # per batch: session.run and the rows
    batch_sizes: dict[str, int] = field(default_factory=dict)  # batches per size bucket


def parse_totals(text: str, model: str) -> Totals:
    """The _sum/_count samples of one model's histograms."""
    # Imported here: bench builds its load options on every call, and the runtime extra
    # (no prometheus-client) must run `cnnkit bench MODEL` (tests/e2e/test_wheel.py).
    from prometheus_client.parser import text_string_to_metric_families

    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("model") != model:
                continue
            if sample.name in TOTALS:
                values[sample.name] = sample.value
            elif sample.name == BATCH_BUCKET:
                values[f"{BATCH_BUCKET}:{sample.labels['le']}"] = sample.value
    return Totals(values)


def scrape(target: Target) -> Totals:
    """GET /metrics and parse the target model's totals."""
    connection = http.client.HTTPConnection(target.host, target.port, timeout=10)
    try:
        connection.request("GET", "/metrics")
        response = connection.getresponse()
        text = response.read().decode()
    except OSError as exc:
        raise CnnkitError(f"{target.host}:{target.port}/metrics: cannot read it ({exc})") from None
    finally:
        connection.close()
    return parse_totals(text, target.model)
