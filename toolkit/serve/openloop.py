"""Open-loop load for `cnnkit bench --serve --rate R`: requests arrive on a schedule, not
when the previous answer came back (perf_analyzer's --request-rate-range).

A closed loop (--concurrency) slows its clients down when the server slows, so it never
sees a queue build up; real traffic keeps arriving. Arrival times are fixed before the
level starts: evenly spaced at R per second, or Poisson (exponential gaps, seeded). Sender
threads take the next arrival, wait for its time and send it; latency counts from the
scheduled time, so a request that waited for a free sender is charged for it (no
coordinated omission). New arrivals stop at --duration; the level ends when the last
answer is in (or its --timeout passed).
"""

from __future__ import annotations

import http.client
import itertools
import queue
import threading
import time

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.serve.scrape import Target

ARRIVALS = ("constant", "poisson")
MAX_SENDERS = 256  # in flight at most; later arrivals wait (and are charged for it)


def arrival_times(rate: float, seconds: float, arrivals: str, seed: int = 0) -> np.ndarray:
    """Offsets in seconds from the level's start of every arrival before `seconds`."""
    if rate <= 0:
        raise CnnkitError(f"--rate {rate:g}: must be more than 0 requests per second")
    if arrivals not in ARRIVALS:
        raise CnnkitError(f"--arrivals {arrivals!r}: expected one of {', '.join(ARRIVALS)}")
    count = int(rate * seconds * 1.5) + 16  # enough gaps to pass `seconds` with margin
    if arrivals == "constant":
        times = np.arange(count) / rate
    else:
        times = np.cumsum(np.random.default_rng(seed).exponential(1 / rate, count))
    return times[times < seconds]


def senders_for(rate: float) -> int:
    """Sender threads: about a second's worth of arrivals in flight, within bounds."""
    return int(min(MAX_SENDERS, max(4, np.ceil(rate))))


class Sender(threading.Thread):
    """Takes scheduled arrivals off the queue, sends each at its time on a kept connection."""

    def __init__(self, target: Target, bodies, arrivals: queue.Queue, start: float, timeout):
        super().__init__(daemon=True)
        self.target, self.bodies, self.arrivals = target, bodies, arrivals
        self.start_at, self.timeout = start, timeout
        self.outcomes: list[tuple[float, str]] = []  # (latency in s, status) per request
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while True:
            try:
                index, offset = self.arrivals.get_nowait()
            except queue.Empty:
                break
            scheduled = self.start_at + offset
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            status = self.send(self.bodies[index % len(self.bodies)])
            self.outcomes.append((time.perf_counter() - scheduled, status))
        if self.connection is not None:
            self.connection.close()

    def send(self, payload) -> str:
        """One request; its HTTP status, or the exception's name (the client reconnects)."""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.target.host, self.target.port, timeout=self.timeout
                )
            self.connection.request("POST", self.target.path, payload.body, payload.headers)
            response = self.connection.getresponse()
            response.read()
            return str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            return type(exc).__name__


def drive_rate(target: Target, bodies, rate: float, seconds: float, arrivals: str, timeout):
    """One open-loop level: ([(latency, status)], wall seconds, arrivals sent)."""
    times = arrival_times(rate, seconds, arrivals)
    work: queue.Queue = queue.Queue()
    for item in zip(itertools.count(), times, strict=False):
        work.put(item)
    start = time.perf_counter() + 0.05  # every sender started before the first arrival
    senders = [Sender(target, bodies, work, start, timeout) for _ in range(senders_for(rate))]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    wall = max(seconds, time.perf_counter() - start)
    return [o for sender in senders for o in sender.outcomes], wall, len(times)
