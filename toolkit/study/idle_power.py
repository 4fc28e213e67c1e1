"""`make bench`'s low-power section: an edge box serving a camera is idle most of the time.

onnxruntime's intra-op threads spin while they wait for work, which burns CPU between
frames. Measured, with spinning on and off (`--spin/--no-spin`):
- `cnnkit serve`'s CPU% with no traffic (goal <= 1%);
- its CPU-seconds per request at 5 requests/s, against the CPU of one raw session.run
  (goal <= 1.3x);
- and, in a fresh process each, the peak RSS of a session fed changing batch sizes with
  onnxruntime's CPU memory arena on and off.
CPU time is the server process's own (utime + stime from /proc), so other work on the
machine slows the figures less than it slows wall-clock ones.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from toolkit.study.comparisons import write_pngs
from toolkit.study.serve_speed import served_process

if TYPE_CHECKING:
    from toolkit.study.plan import StudyPlan

IDLE_TARGET_PERCENT = 1.0
PER_REQUEST_TARGET = 1.3  # serve CPU-s per request over raw session.run CPU-s
RATE = 5.0  # requests per second: a camera's few frames worth a look
ARENA_BATCHES = (1, 16, 3, 12, 5, 9, 2, 16, 7, 1)  # a dynamic batcher's changing sizes


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paced_requests(url: str, body: bytes, rate: float, seconds: float) -> int:
    """POST `body` to `url` at `rate` requests/s (one at a time) for `seconds`; the count."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    start, sent = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        connection.request("POST", f"{parts.path}/predict", body, {"Content-Type": "image/png"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: status {response.status} at {RATE} req/s")
        sent += 1
        time.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    connection.close()
    return sent


def serve_cpu(model: Path, png: Path, spin: bool, plan: StudyPlan) -> dict:
    """A served model's CPU% idle and CPU-seconds per request at RATE requests/s."""
    flag = "--spin" if spin else "--no-spin"
    body = png.read_bytes()
    with served_process("m", model, flag, "--threads", str(plan.threads)) as (url, pid):
        paced_requests(url, body, RATE, 1.0)  # warm: sessions, decoders, connections
        time.sleep(1.0)  # the spinning after the last request is not idle time
        before = cpu_seconds(pid)
        time.sleep(plan.idle_s)
        idle = cpu_seconds(pid) - before
        before = cpu_seconds(pid)
        count = paced_requests(url, body, RATE, plan.rate_s)
        busy = cpu_seconds(pid) - before
    return {
        "spin": spin,
        "idle_cpu_percent": 100 * idle / plan.idle_s,
        "requests": count,
        "cpu_s_per_request": busy / count,
    }


def raw_cpu(model: Path, size, spin: bool, plan: StudyPlan) -> float:
    """CPU-seconds of one batch-1 session.run, runs paced at RATE like the requests."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = plan.threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).random((1, *size), "f")}
    session.run(None, feed)
    runs = max(3, int(plan.rate_s * RATE))
    before = time.process_time()
    for _ in range(runs):
        session.run(None, feed)
        time.sleep(1 / RATE)  # spinning after a run is part of its cost
    return (time.process_time() - before) / runs


# VmHWM, not ru_maxrss: after exec, ru_maxrss still counts the forked parent's pages.
ARENA_PROBE = """
import sys
import numpy as np, onnxruntime as ort
options = ort.SessionOptions()
options.enable_cpu_mem_arena = sys.argv[2] == "on"
options.intra_op_num_threads = int(sys.argv[3])
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
shape = [int(d) for d in sys.argv[4].split(",")]
for batch in map(int, sys.argv[5].split(",")):
    session.run(None, {session.get_inputs()[0].name: np.zeros([batch, *shape], np.float32)})
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["VmHWM"].split()[0]) / 1024, int(status["VmRSS"].split()[0]) / 1024)
"""


def rss_mb(model: Path, size, arena: bool, plan: StudyPlan) -> dict:
    """Peak and final RSS (MB) of a fresh process running ARENA_BATCHES through one session."""
    args = [str(model), "on" if arena else "off", str(plan.threads)]
    args += [",".join(map(str, size)), ",".join(map(str, ARENA_BATCHES))]
    done = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE, *args], capture_output=True, text=True, check=True
    )
    peak, final = map(float, done.stdout.split()[-2:])
    return {"peak_rss_mb": peak, "final_rss_mb": final}


def idle_power(model: Path, size, plan: StudyPlan, work: Path) -> dict:
    """The low-power section: serve idle and paced CPU, raw CPU, arena peak RSS."""
    (png,) = write_pngs(work / "idle-pngs", tuple(size), 1)
    raw_reference = raw_cpu(model, size, False, plan)
    serve = []
    for spin in (True, False):
        figures = serve_cpu(model, png, spin, plan)
        figures["raw_cpu_s"] = raw_cpu(model, size, spin, plan)
        figures["per_request_ratio"] = figures["cpu_s_per_request"] / raw_reference
        serve.append(figures)
    return {
        "rate_per_s": RATE,
        "threads": plan.threads,
        "raw_cpu_s_no_spin": raw_reference,
        "serve": serve,
        "idle_target_percent": IDLE_TARGET_PERCENT,
        "per_request_target": PER_REQUEST_TARGET,
        "arena": {
            "batches": list(ARENA_BATCHES),
            "on": rss_mb(model, size, True, plan),
            "off": rss_mb(model, size, False, plan),
        },
    }
