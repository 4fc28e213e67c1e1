"""The facts `cnnkit doctor` reads from the machine: OS, glibc, CPU, usable cores, memory.

Linux files only (/proc, /sys, cgroup v1 and v2), read directly: no psutil on an edge box.
The cores a process may use are fewer than the machine has under taskset (affinity) or a
container's CPU quota, and onnxruntime's default thread count sees neither.
"""

from __future__ import annotations

import math
import os
import platform
from pathlib import Path

# The instruction sets that decide onnxruntime's speed, by the name /proc/cpuinfo gives.
X86_FLAGS = {
    "avx2": ("avx2",),
    "avx512": ("avx512f",),
    "vnni": ("avx512_vnni", "avx_vnni"),
    "bf16": ("avx512_bf16",),
    "amx": ("amx_tile",),
}
ARM_FLAGS = {
    "neon": ("asimd", "neon"),
    "dotprod": ("asimddp",),
    "i8mm": ("i8mm",),
    "sve": ("sve",),
    "bf16": ("bf16",),
}
# `CPU part` of Arm Ltd's cores (implementer 0x41) found on edge boards.
ARM_PARTS = {
    "0xd03": "Cortex-A53",
    "0xd04": "Cortex-A35",
    "0xd05": "Cortex-A55",
    "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72",
    "0xd09": "Cortex-A73",
    "0xd0a": "Cortex-A75",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd0d": "Cortex-A77",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd42": "Cortex-A78AE",
    "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710",
    "0xd49": "Neoverse-N2",
    "0xd4b": "Cortex-A78C",
    "0xd4f": "Neoverse-V2",
}


def read_text(path: str) -> str:
    """A small system file's text, or "" when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def cpuinfo_fields(text: str) -> dict[str, str]:
    """The first processor's `key: value` fields of /proc/cpuinfo (later ones repeat them)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    return fields


def cpu_flags(fields: dict[str, str], arch: str) -> list[str]:
    """The speed-deciding instruction sets present, by cnnkit's names (neon, vnni, ...)."""
    table = ARM_FLAGS if arch in ("aarch64", "arm64") or arch.startswith("arm") else X86_FLAGS
    present = set((fields.get("flags") or fields.get("Features") or "").split())
    return [name for name, spellings in table.items() if present & set(spellings)]


def cpu_model(fields: dict[str, str]) -> str:
    """The CPU's name: x86's `model name`, else the board and the Arm core."""
    if fields.get("model name"):
        return fields["model name"]
    board = read_text("/proc/device-tree/model").strip("\x00\n ")
    part = fields.get("CPU part", "").lower()
    core = ARM_PARTS.get(part) if fields.get("CPU implementer") == "0x41" else None
    core = core or (f"CPU part {part}" if part else "")
    return ", ".join(p for p in (board, core) if p) or platform.processor() or "unknown"


def cgroup_cpu_limit() -> float | None:
    """The CPU quota of this process's cgroup, in cores (v2 cpu.max, v1 cfs); None: none."""
    quota, _, period = read_text("/sys/fs/cgroup/cpu.max").strip().partition(" ")
    if not quota:
        quota = read_text("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").strip()
        period = read_text("/sys/fs/cgroup/cpu/cpu.cfs_period_us").strip()
    try:
        cores = int(quota) / int(period)
    except ValueError:  # "max", -1 or missing: no quota
        return None
    return cores if cores > 0 else None


def usable_cores() -> int:
    """The cores this process may keep busy: its affinity mask, capped by the cgroup quota."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = cgroup_cpu_limit()
    return max(1, min(allowed or 1, math.ceil(quota) if quota else allowed or 1))


def memory_mb() -> int | None:
    """The memory this process may use: MemTotal, capped by the cgroup's limit (v2, v1)."""
    total = None
    for line in read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) // 1024
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = read_text(limit_file).strip()
        if limit.isdigit() and (total is None or int(limit) // 2**20 < total):
            total = int(limit) // 2**20
    return total


def os_name() -> str:
    """The distribution's name (os-release) and the kernel, 'Debian GNU/Linux 12, Linux 6.1'."""
    pretty = ""
    for line in read_text("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            pretty = line.partition("=")[2].strip().strip('"')
    kernel = f"{platform.system()} {platform.release()}"
    return f"{pretty}, {kernel}" if pretty else kernel


def glibc() -> str | None:
    """The C library's version ('2.36'); None for another libc (musl) or another OS."""
    try:
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
    except (AttributeError, ValueError, OSError):
        return None
    return version if name == "glibc" else None


def machine_facts() -> dict:
    """OS, architecture, glibc, Python, CPU (model, flags, cores) and memory, as doctor's JSON."""
    arch = platform.machine()
    fields = cpuinfo_fields(read_text("/proc/cpuinfo"))
    return {
        "os": os_name(),
        "arch": arch,
        "glibc": glibc(),
        "python": platform.python_version(),
        "cpu": {
            "model": cpu_model(fields),
            "flags": cpu_flags(fields, arch),
            "usable_cores": usable_cores(),
            "logical_cores": os.cpu_count(),
        },
        "memory_mb": memory_mb(),
    }
