"""Cores this process may use, how decoding and session.run share them, and where time went.

`os.cpu_count()` counts the machine; a container's CPU quota (cgroup `cpu.max`, or v1's
`cpu.cfs_quota_us`) and the affinity mask (`sched_getaffinity`) say how many cores this
process may really use. Decode threads and onnxruntime's intra-op threads share those
cores, so `--workers auto` sizes both from the same number.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import CnnkitError

CGROUP_ROOT = Path("/sys/fs/cgroup")


def affinity_cores() -> int:
    """Cores in this process's affinity mask (all logical cores where there is none)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cgroup_dirs() -> list[Path]:
    """The cgroup folders holding this process's CPU controller, most specific first."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return [CGROUP_ROOT, CGROUP_ROOT / "cpu", CGROUP_ROOT / "cpu,cpuacct"]
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":  # v2: one unified hierarchy
            found += [CGROUP_ROOT / relative, CGROUP_ROOT]
        elif "cpu" in controllers.split(","):
            for name in (controllers, "cpu", "cpu,cpuacct"):
                found += [CGROUP_ROOT / name / relative, CGROUP_ROOT / name]
    return list(dict.fromkeys(found))


def read_quota(folder: Path) -> float | None:
    """CPUs allowed by the quota in one cgroup folder; None when unlimited or absent."""
    try:
        if (folder / "cpu.max").is_file():  # v2: "max 100000" or "150000 100000"
            quota, period = (folder / "cpu.max").read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        if (folder / "cpu.cfs_quota_us").is_file():  # v1: -1 means unlimited
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
            return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None
    return None


def cpu_quota() -> float | None:
    """CPUs the cgroup quota allows this process (the tightest found); None: no quota."""
    quotas = [q for q in (read_quota(folder) for folder in cgroup_dirs()) if q]
    return min(quotas) if quotas else None


@dataclass(frozen=True)
class Cores:
    """The cores a process may use, and why."""

    logical: int  # os.cpu_count()
    affinity: int  # sched_getaffinity
    quota: float | None  # cgroup CPU quota in CPUs; None when unlimited
    usable: int  # min(affinity, floor(quota)), at least 1

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready)."""
        return {
            "logical": self.logical,
            "affinity": self.affinity,
            "quota": self.quota,
            "usable": self.usable,
        }


def usable_cores() -> Cores:
    """Cores this process may use: the affinity mask, capped by the cgroup quota."""
    affinity, quota = affinity_cores(), cpu_quota()
    usable = affinity if quota is None else min(affinity, max(1, math.floor(quota)))
    return Cores(os.cpu_count() or affinity, affinity, quota, max(1, usable))


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages; None where the OS has none."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


@dataclass(frozen=True)
class WorkerPlan:
    """Decode threads and onnxruntime intra-op threads, chosen together."""

    workers: int
    threads: int | None  # None: onnxruntime's default
    cores: int


def plan_workers(workers: int | str | None, threads: int | None) -> WorkerPlan:
    """`--workers N|auto` and `--threads` -> a plan for the cores this process may use.

    auto: onnxruntime gets every usable core (its kernels scale with them) and decoding
    as many threads. Decode threads sleep while the prefetch window is full and the
    runner's session does not spin its idle threads, so each side takes the cores only
    while it has work; a cgroup quota or affinity mask shrinks both.
    """
    if threads is not None and threads < 1:
        raise CnnkitError(f"--threads {threads}: must be at least 1")
    cores = usable_cores().usable
    if workers is None or workers == "auto":
        return WorkerPlan(workers=cores, threads=threads or cores, cores=cores)
    if isinstance(workers, str):
        if not workers.isdigit():
            raise CnnkitError(f"--workers {workers!r}: expected a positive integer or auto")
        workers = int(workers)
    most = max(16, 4 * cores)  # each thread holds a decoded image: thousands only cost memory
    if not 1 <= workers <= most:
        raise CnnkitError(f"--workers {workers}: expected 1..{most} on this machine, or auto")
    return WorkerPlan(workers=workers, threads=threads, cores=cores)


@dataclass
class StageTimes:
    """Where a run's time went: decoding (per image), the model (per batch), model idle."""

    decode_s: list[float] = field(default_factory=list)  # one entry per decoded input
    infer_s: list[float] = field(default_factory=list)  # one entry per batch
    idle_s: float = 0.0  # the model thread waiting for decoded inputs
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def timed_decode(self, decode, *args):
        """Call `decode(*args)` and record its wall time."""
        start = time.perf_counter()
        try:
            return decode(*args)
        finally:
            elapsed = time.perf_counter() - start
            with self.lock:
                self.decode_s.append(elapsed)

    def summary(self, seconds: float) -> dict:
        """decode ms per image, inference ms per batch, idle seconds and share of the loop."""
        return {
            "decode_ms_per_image": mean_ms(self.decode_s),
            "infer_ms_per_batch": mean_ms(self.infer_s),
            "idle_s": self.idle_s,
            "idle_share": self.idle_s / seconds if seconds > 0 else 0.0,
        }


def mean_ms(values: list[float]) -> float | None:
    """Mean in milliseconds, None for no values."""
    return sum(values) / len(values) * 1e3 if values else None
