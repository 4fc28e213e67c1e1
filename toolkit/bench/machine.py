"""A description of the machine a benchmark ran on (torch-free: versions via metadata).

Before timing, a benchmark reads how busy the machine is (load average) and how many
cores this process may use (cgroup quota, affinity): numbers measured while other work
competes for the cores are slower and noisier, and the report says so.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

from toolkit.progress import note
from toolkit.runtime.workers import load_average, usable_cores

# The vector extensions that set float32 and int8 throughput, in /proc/cpuinfo's names.
ISA_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
    "neon",
    "asimd",
    "asimddp",
)
BUSY_LOAD = 0.5  # a 1-minute load above this, before we start, is other work on the cores


def cpuinfo_lines() -> list[str]:
    """/proc/cpuinfo's lines (empty where there is none)."""
    cpuinfo = Path("/proc/cpuinfo")
    return cpuinfo.read_text(errors="replace").splitlines() if cpuinfo.is_file() else []


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or the platform's processor string."""
    for line in cpuinfo_lines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def vector_extensions() -> list[str]:
    """The CPU's SIMD / matrix extensions that matter for fp32 and int8 kernels."""
    for line in cpuinfo_lines():
        if line.lower().startswith(("flags", "features")):
            present = set(line.split(":", 1)[1].split())
            return [flag for flag in ISA_FLAGS if flag in present]
    return []


def int8_ratio(isa: list[str]) -> dict:
    """The int8/fp32 multiply-add throughput ratio the vector units allow, and why."""
    if "avx512_vnni" in isa or "avx_vnni" in isa:
        ratio, why = 4.0, "VNNI: one instruction does 4 int8 multiply-adds per 32-bit lane"
    elif "avx2" in isa or "asimddp" in isa:
        ratio, why = 2.0, "no VNNI: int8 needs a two-step multiply-add (pmaddubsw + pmaddwd)"
    else:
        ratio, why = 1.0, "no int8 dot-product instructions known for this CPU"
    if "amx_int8" in isa:
        why += "; AMX tiles allow far more (up to 32x on paper) where the kernels use them"
    return {"ratio": ratio, "why": why}


def package_version(name: str) -> str | None:
    """Installed version of a distribution without importing it (None when absent)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_state() -> dict:
    """Load average and usable cores right now, with a warning for each reason to doubt."""
    cores, load = usable_cores(), load_average()
    warnings = []
    if load is not None and load[0] > BUSY_LOAD:
        warnings.append(
            f"1-minute load average {load[0]:.2f} on {cores.logical} logical cores before "
            "timing: other work competes for the CPU, so timings are slower and noisier"
        )
    if cores.usable < cores.logical:
        why = f"CPU quota {cores.quota:g}" if cores.quota else "the affinity mask"
        warnings.append(f"{why} leaves this process {cores.usable} of {cores.logical} cores")
    return {
        "load_average": list(load) if load else None,
        "cores": cores.to_dict(),
        "warnings": warnings,
    }


def announce(state: dict) -> None:
    """Each warning of a machine_state on stderr."""
    for warning in state["warnings"]:
        note(f"warning: {warning}")


def describe_machine() -> dict:
    """CPU model and extensions, cores, load, OS, Python and the numeric packages' versions."""
    state = machine_state()
    isa = vector_extensions()
    return {
        "cpu": cpu_model(),
        "cores": state["cores"]["logical"],
        "usable_cores": state["cores"]["usable"],
        "vector_extensions": isa,
        "int8_vs_fp32_ratio": int8_ratio(isa),
        "state": state,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "onnxruntime": package_version("onnxruntime") or package_version("onnxruntime-gpu"),
        "onnx": package_version("onnx"),
        "numpy": package_version("numpy"),
        "torch": package_version("torch"),
    }
