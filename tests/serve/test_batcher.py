"""The dynamic batcher on its own, with a stand-in predictor (no model, no HTTP)."""

from toolkit.serve.batcher import Batcher
from toolkit.serve.config import BatchSettings
from toolkit.serve.metrics import ServeMetrics


class Echo:
    """A predictor whose row for a request is its key and the size of its batch."""

    def __init__(self):
        self.batches: list[list[str]] = []

    def rows(self, keys, decoded):
        self.batches.append(list(keys))
        return [{"key": key, "batch": len(keys)} for key in keys]


def patient_batcher(predictor: Echo) -> Batcher:
    settings = BatchSettings(max_batch=64, max_delay_ms=600_000, patient=True)
    return Batcher("echo", [predictor], settings, ServeMetrics().model("echo"))


def test_drain_runs_the_queue_at_once_and_admits_nothing_new():
    predictor = Echo()
    batcher = patient_batcher(predictor)
    futures = []
    for key in ("a", "b", "c"):
        assert batcher.admit()
        futures.append(batcher.submit(key, None))
    assert not any(f.done() for f in futures)  # waiting out the ten-minute delay
    batcher.drain()
    rows = [f.result(timeout=10) for f in futures]
    assert rows == [{"key": k, "batch": 3} for k in ("a", "b", "c")]
    assert not batcher.admit()
    batcher.close()
    assert predictor.batches == [["a", "b", "c"]]


def test_a_request_still_decoding_at_drain_is_answered_before_close_returns():
    predictor = Echo()
    batcher = patient_batcher(predictor)
    assert batcher.admit()  # admitted, still decoding when the stop signal comes
    batcher.drain()
    late = batcher.submit("late", None)
    batcher.close()
    assert late.result(timeout=10) == {"key": "late", "batch": 1}
