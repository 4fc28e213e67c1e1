"""The dynamic batcher on its own, with a stand-in predictor (no model, no HTTP)."""

from toolkit.serve.batcher import Batcher
from toolkit.serve.config import BatchSettings
from toolkit.serve.metrics import ServeMetrics


class Echo:
    """A predictor whose row for a request is its key and the size of its batch."""

    def __init__(self):
        self.batches: list[list[str]] = []

    def infer(self, decoded):
        return list(range(len(decoded)))  # the "output" of each input: its place in the batch

    def output_rows(self, keys, decoded, output):
        self.batches.append(list(keys))
        return [{"key": key, "batch": len(keys)} for key in keys]


def patient_batcher(predictor: Echo) -> Batcher:
    settings = BatchSettings(max_batch=64, max_delay_ms=600_000, patient=True)
    return Batcher("echo", [predictor], settings, ServeMetrics().model("echo"))


def test_the_stop_signal_runs_the_queue_at_once():
    predictor = Echo()
    batcher = patient_batcher(predictor)
    futures = []
    for key in ("a", "b", "c"):
        assert batcher.admit()
        futures.append(batcher.submit(key, None))
    assert not any(f.done() for f in futures)  # waiting out the ten-minute delay
    batcher.stop_waiting()
    rows = [f.result(timeout=10).row for f in futures]
    assert rows == [{"key": k, "batch": 3} for k in ("a", "b", "c")]
    batcher.close()
    assert predictor.batches == [["a", "b", "c"]]


def test_a_request_still_uploading_at_the_signal_is_admitted_and_answered():
    predictor = Echo()
    batcher = patient_batcher(predictor)
    batcher.stop_waiting()
    assert batcher.admit()  # its body arrived after the signal: still answered
    late = batcher.submit("late", None)
    assert late.result(timeout=10).row == {"key": "late", "batch": 1}  # no ten-minute wait
    batcher.close()
    assert not batcher.admit()  # closed: the server is past answering


def test_close_answers_what_is_queued_before_it_returns():
    predictor = Echo()
    batcher = patient_batcher(predictor)
    assert batcher.admit()
    queued = batcher.submit("queued", None)
    batcher.close()
    assert queued.done() and queued.result().row == {"key": "queued", "batch": 1}


def test_the_queue_depth_gauge_counts_every_held_slot():
    metrics = ServeMetrics()
    settings = BatchSettings(max_batch=64, max_delay_ms=600_000, patient=True)
    batcher = Batcher("echo", [Echo()], settings, metrics.model("echo"))

    def depth() -> float:
        return metrics.registry.get_sample_value("cnnkit_queue_depth", {"model": "echo"})

    assert batcher.admit() and batcher.admit(2)  # uploads under way hold their slots
    assert depth() == 3
    batcher.release(2)  # one was refused (bad input, too slow, gone)
    assert depth() == 1
    answered = batcher.submit("kept", None)
    batcher.close()
    assert answered.result(timeout=10).row == {"key": "kept", "batch": 1}
    assert depth() == 0
