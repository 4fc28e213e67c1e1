"""On a few cores, request decoding waits while a batch runs: the runner's rule, served.

A decode thread that preempts one of onnxruntime's intra-op threads stalls every parallel
kernel of the running batch on that straggler (see runtime/workers.py). Below
OVERLAP_MIN_CORES usable cores, decode threads therefore wait until no batch is running,
and decode between batches; the wait is bounded so a busy model never starves decoding.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from toolkit.runtime.workers import OVERLAP_MIN_CORES, usable_cores

MAX_WAIT_S = 0.5  # past this a decode goes ahead beside the batch


class Turns:
    """Counts running batches; `wait_for_cores` blocks (bounded) until none runs."""

    def __init__(self, enabled: bool, max_wait_s: float = MAX_WAIT_S):
        self.enabled, self.max_wait_s = enabled, max_wait_s
        self.running = 0
        self.condition = threading.Condition()

    @classmethod
    def for_this_machine(cls) -> Turns:
        """Enabled below OVERLAP_MIN_CORES usable cores (affinity, cgroup quota)."""
        return cls(usable_cores().usable < OVERLAP_MIN_CORES)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Mark a session.run in progress."""
        with self.condition:
            self.running += 1
        try:
            yield
        finally:
            with self.condition:
                self.running -= 1
                self.condition.notify_all()

    def wait_for_cores(self) -> None:
        """Return once no batch runs (at once when disabled, at most max_wait_s)."""
        if not self.enabled:
            return
        with self.condition:
            self.condition.wait_for(lambda: self.running == 0, timeout=self.max_wait_s)
