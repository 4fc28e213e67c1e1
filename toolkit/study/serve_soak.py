"""`make bench`'s soak: many requests of mixed image sizes through a repository serve, with
the server's resident memory after warmup and at the end (issue 28: growth <= 10%).

LeNet-5 (random weights) served from a `--model-repository`; eight client threads send
digit PNGs at four sizes (the decoder and the resize see different shapes) to /v1 until
`plan.soak_requests` are answered. RSS is read from /proc after the first tenth (warmup:
arenas, caches and the decode pool have grown) and after the last request.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.serve.config import announced_url, read_announcement
from toolkit.study.comparisons import write_pngs

if TYPE_CHECKING:
    from toolkit.study.plan import StudyPlan

GROWTH_GOAL = 0.10  # RSS at the end over RSS after warmup, at most +10%
SIZES = ((1, 32, 32), (1, 64, 48), (1, 150, 200), (1, 480, 640))
CLIENTS = 8


@contextlib.contextmanager
def repository_server(repository: Path) -> Iterator[tuple[str, int]]:
    """`cnnkit serve --model-repository` on a free port: (base URL, pid)."""
    command = [sys.executable, "-m", "toolkit.cli", "serve", "--model-repository",
               str(repository), "--quiet", "--host", "127.0.0.1", "--port", "0"]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield announced_url(read_announcement(process.stderr)), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        process.stderr.close()


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def send(url: str, bodies: list[bytes], count: int) -> dict[str, int]:
    """`count` requests from CLIENTS keep-alive threads; answers by status."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    counter, statuses, lock = itertools.count(), {}, threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while (i := next(counter)) < count:
            try:
                connection.request("POST", "/v1/models/lenet5/predict", bodies[i % len(bodies)])
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def soak(lenet_onnx: Path, plan: StudyPlan, work: Path) -> dict:
    """plan.soak_requests through a repository serve: errors, RSS after warmup and at the end."""
    repository = work / "soak-repository"
    (repository / "lenet5" / "1").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(lenet_onnx, repository / "lenet5" / "1" / "model.onnx")
    bodies = [
        path.read_bytes()
        for size in SIZES
        for path in write_pngs(work / f"soak-{size[1]}x{size[2]}", size, 8)
    ]
    total = plan.soak_requests
    warmup = total // 10
    with repository_server(repository) as (url, pid):
        statuses = send(url, bodies, warmup)
        start_mb = rss_mb(pid)
        began = time.perf_counter()
        for status, count in send(url, bodies, total - warmup).items():
            statuses[status] = statuses.get(status, 0) + count
        seconds = time.perf_counter() - began
        end_mb = rss_mb(pid)
    growth = end_mb / start_mb - 1
    return {
        "requests": total,
        "errors": total - statuses.get("200", 0),
        "statuses": statuses,
        "sizes": [list(s) for s in SIZES],
        "rss_after_warmup_mb": start_mb,
        "rss_end_mb": end_mb,
        "growth": growth,
        "growth_goal": GROWTH_GOAL,
        "meets_growth": growth <= GROWTH_GOAL,
        "requests_per_s": (total - warmup) / seconds,
    }
