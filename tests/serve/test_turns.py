"""On a few cores, decoding waits while a batch runs; bounded, and off on many cores."""

from __future__ import annotations

import threading
import time

from toolkit.serve.turns import Turns


def test_decoding_waits_until_the_running_batch_ends():
    turns, waited = Turns(enabled=True, max_wait_s=5), []
    with turns.batch():
        worker = threading.Thread(target=lambda: waited.append(turns.wait_for_cores()))
        worker.start()
        time.sleep(0.05)
        assert worker.is_alive()  # still waiting: a batch is running
    worker.join(timeout=5)
    assert not worker.is_alive() and waited == [None]


def test_the_wait_is_bounded_and_disabled_turns_never_wait():
    bounded = Turns(enabled=True, max_wait_s=0.05)
    with bounded.batch():
        start = time.perf_counter()
        bounded.wait_for_cores()
        assert time.perf_counter() - start < 2
    off = Turns(enabled=False)
    with off.batch():
        off.wait_for_cores()  # returns at once
