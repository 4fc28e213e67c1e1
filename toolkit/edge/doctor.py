"""`cnnkit doctor`: is this machine fit to run cnnkit's models, and what follows from its CPU.

Torch-free. onnxruntime is probed in a child process (toolkit/edge/probe.py) so that a
crash at import or at session creation becomes a reported problem, not a dead doctor.
Every provider onnxruntime lists must also open a session and run on itself: onnxruntime
quietly falls back to the CPU when, say, a CUDA library is missing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from toolkit.edge.machine import machine_facts

PROBE_TIMEOUT_S = 120
CUDA = "CUDAExecutionProvider"
# Known bad onnxruntime builds: (version prefix, arch, CPU flag whose absence breaks it).
SIGILL_BUILDS = (("1.21.", "aarch64", "dotprod"),)


def death(returncode: int) -> str:
    """How a child process ended, in words: 'killed by SIGILL' or 'exit 1'."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


def probe_onnxruntime() -> dict:
    """doctor's `onnxruntime` entry: version, and each provider listed / opening / error."""
    command = [sys.executable, "-m", "toolkit.edge.probe"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
        lines, code, stderr = done.stdout.splitlines(), done.returncode, done.stderr
    except subprocess.TimeoutExpired:
        lines, code, stderr = [], None, f"no answer in {PROBE_TIMEOUT_S} s"
    steps = [json.loads(line) for line in lines if line.startswith("{")]
    if not steps:
        last = (stderr.strip().splitlines() or [""])[-1]
        how = death(code) if code is not None else stderr
        return {"version": None, "providers": {}, "error": f"import onnxruntime: {how} {last}"}
    listed = steps[0]["providers"]
    opened = {step["provider"]: step for step in steps[1:]}
    providers = {}
    for name in listed:
        step = opened.get(name) or {"opens": False, "error": f"opening a session: {death(code)}"}
        providers[name] = {"listed": True, "opens": step["opens"], "error": step["error"]}
    if CUDA not in providers:
        providers[CUDA] = {"listed": False, "opens": False, "error": "not in this build"}
    return {"version": steps[0]["version"], "providers": providers, "error": None}


def problems(report: dict) -> list[str]:
    """What is broken: onnxruntime missing or crashing, a listed provider that does not open."""
    runtime = report["onnxruntime"]
    if runtime["error"]:
        return [runtime["error"]]
    found = []
    for name, state in runtime["providers"].items():
        if state["listed"] and not state["opens"]:
            found.append(f"{name} is listed but does not run: {state['error']}")
    return found


def int8_advice(arch: str, flags: list[str]) -> str:
    """Whether INT8 models should pay on this CPU, from its dot-product instructions."""
    if "amx" in flags or "vnni" in flags:
        return "INT8 pays here (" + ("AMX, " if "amx" in flags else "") + "VNNI): cnnkit quantize"
    if arch == "aarch64" and ("i8mm" in flags or "dotprod" in flags):
        kind = "i8mm" if "i8mm" in flags else "dotprod"
        return f"INT8 pays here ({kind}): cnnkit quantize"
    if arch == "aarch64":
        return "no INT8 dot product (NEON only): expect little from INT8; keep FP32"
    return "no VNNI: INT8 gains are modest here; measure with cnnkit bench"


def advice(report: dict) -> list[str]:
    """What follows from the facts: INT8, threads, memory, known bad builds."""
    cpu, arch = report["cpu"], report["arch"]
    found = [int8_advice(arch, cpu["flags"])]
    if cpu["logical_cores"] and cpu["usable_cores"] < cpu["logical_cores"]:
        found.append(
            f"this process may use {cpu['usable_cores']} of {cpu['logical_cores']} cores "
            f"(affinity, cgroup quota): pass --threads {cpu['usable_cores']}"
        )
    if report["memory_mb"] is not None and report["memory_mb"] < 1024:
        found.append(f"{report['memory_mb']} MB of memory: prefer INT8 models, --batch-size 1")
    version = report["onnxruntime"]["version"] or ""
    for prefix, bad_arch, flag in SIGILL_BUILDS:
        if version.startswith(prefix) and arch == bad_arch and flag not in cpu["flags"]:
            found.append(
                f"onnxruntime {version} dies of an illegal instruction on CPUs without {flag} "
                "(Raspberry Pi 4; onnxruntime issues 23957, 24112): install another version"
            )
    return found


def diagnose() -> dict:
    """doctor's report (DESIGN.md's `doctor --json`), with `problems` (empty: healthy)."""
    report = machine_facts()
    report["onnxruntime"] = probe_onnxruntime()
    report["advice"] = advice(report)
    report["problems"] = problems(report)
    return report


def render(report: dict) -> str:
    """The report as aligned text lines for a terminal."""
    cpu, runtime = report["cpu"], report["onnxruntime"]
    lines = [
        f"os           {report['os']}",
        f"arch         {report['arch']} (glibc {report['glibc'] or 'none'})",
        f"python       {report['python']}",
        f"cpu          {cpu['model']}",
        f"cpu flags    {', '.join(cpu['flags']) or 'none of note'}",
        f"cores        {cpu['usable_cores']} usable of {cpu['logical_cores']}",
        f"memory       {report['memory_mb']} MB",
        f"onnxruntime  {runtime['version'] or 'not usable'}",
    ]
    for name, state in runtime["providers"].items():
        status = "opens" if state["opens"] else f"does not open: {state['error']}"
        lines.append(f"  {name:<28} {'listed' if state['listed'] else 'not listed'}, {status}")
    lines += [f"advice       {line}" for line in report["advice"]]
    lines += [f"PROBLEM      {line}" for line in report["problems"]]
    return "\n".join(lines)
