"""`cnnkit doctor`: this machine's report through the console script, and the readings of
other machines' /proc/cpuinfo text (an x86 server, an ARM board)."""

from __future__ import annotations

import json
import platform

from tests.helpers.e2e import cnnkit
from toolkit.edge.doctor import advice, problems
from toolkit.edge.machine import cpu_flags, cpu_model, cpuinfo_fields, usable_cores

RASPBERRY_PI_4 = """processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU part\t: 0xd08

processor\t: 1
Features\t: fp asimd evtstrm crc32 cpuid
"""
XEON = "model name\t: Intel Xeon\nflags\t\t: fpu avx2 avx512f avx512_vnni amx_tile\n"


def test_doctor_json_on_this_machine(tmp_path):
    result = cnnkit("doctor", "--json", cwd=tmp_path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert set(report) >= {"os", "arch", "glibc", "python", "cpu", "memory_mb", "onnxruntime"}
    assert report["arch"] == platform.machine() and report["python"] == platform.python_version()
    assert 1 <= report["cpu"]["usable_cores"] == usable_cores()
    assert report["cpu"]["model"] and report["memory_mb"] > 0
    cpu = report["onnxruntime"]["providers"]["CPUExecutionProvider"]
    assert cpu == {"listed": True, "opens": True, "error": None}
    assert report["problems"] == [] and report["advice"]
    if platform.machine() == "x86_64":
        assert "avx2" in report["cpu"]["flags"]  # every x86 machine cnnkit's CI runs on


def test_arm_board_flags_and_name():
    fields = cpuinfo_fields(RASPBERRY_PI_4)
    assert cpu_flags(fields, "aarch64") == ["neon"]
    assert "Cortex-A72" in cpu_model(fields)
    assert cpu_flags(cpuinfo_fields(XEON), "x86_64") == ["avx2", "avx512", "vnni", "amx"]


def report(arch, flags, version="1.32.0", providers=None, usable=4, cores=4, memory=4096):
    """A doctor report as diagnose() builds it, for the advice and problem rules."""
    listed = {"CPUExecutionProvider": {"listed": True, "opens": True, "error": None}}
    return {
        "arch": arch,
        "cpu": {"flags": flags, "usable_cores": usable, "logical_cores": cores},
        "memory_mb": memory,
        "onnxruntime": {"version": version, "providers": providers or listed, "error": None},
    }


def test_advice_follows_the_facts():
    assert advice(report("x86_64", ["avx2", "vnni"]))[0].startswith("INT8 pays here (VNNI)")
    assert advice(report("aarch64", ["neon", "dotprod"]))[0].startswith("INT8 pays here")
    pi4 = advice(report("aarch64", ["neon"], version="1.21.0", usable=1, memory=512))
    assert pi4[0].startswith("no INT8 dot product")
    assert "pass --threads 1" in pi4[1] and "512 MB" in pi4[2]
    assert "illegal instruction" in pi4[3]


def test_a_listed_provider_that_does_not_open_is_a_problem():
    cuda = {"listed": True, "opens": False, "error": "fell back (missing: libcudnn.so.9)"}
    broken = report("x86_64", [], providers={"CUDAExecutionProvider": cuda})
    assert problems(broken) == [
        "CUDAExecutionProvider is listed but does not run: fell back (missing: libcudnn.so.9)"
    ]
    absent = {"listed": False, "opens": False, "error": "not in this build"}
    assert problems(report("x86_64", [], providers={"CUDAExecutionProvider": absent})) == []
