"""The target and wheel-tag logic of `cnnkit bundle` (pure Python, no network)."""

from __future__ import annotations

import pytest

from toolkit.edge.targets import (
    kit_glibc,
    pip_target_args,
    platform_tags,
    tag_glibc,
    target,
    wheel_glibc,
)
from toolkit.errors import CnnkitError


def test_platform_tags_span_manylinux_2_17_to_2_28_newest_first():
    tags = platform_tags("aarch64")
    assert tags[0] == "manylinux_2_28_aarch64" and "manylinux_2_17_aarch64" in tags
    assert len([t for t in tags if t.startswith("manylinux_2_")]) == 12  # 2_17 .. 2_28
    assert tags[-1] == "manylinux2014_aarch64"  # the legacy spelling of 2_17
    assert not [t for t in tags if "x86_64" in t]


def test_pip_args_name_every_tag_and_the_python():
    args = pip_target_args(target("linux-x86_64", "3.12"))
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert platforms == platform_tags("x86_64")
    assert args[args.index("--python-version") + 1] == "3.12"
    assert "--only-binary=:all:" in args and args[args.index("--implementation") + 1] == "cp"


@pytest.mark.parametrize(
    "platform, python, needle",
    [
        ("linux-armv7l", "3.11", "no armv7"),
        ("linux-i686", "3.11", "32-bit x86"),
        ("win-amd64", "3.11", "expected one of linux-x86_64, linux-aarch64"),
        ("linux-aarch64", "3.10", "--python '3.10'"),
        ("linux-aarch64", "3.9", "CPython 3.11"),
    ],
)
def test_targets_without_wheels_are_refused(platform, python, needle):
    with pytest.raises(CnnkitError, match=needle.replace(".", r"\.").replace("(", r"\(")):
        target(platform, python)


def test_target_names():
    chosen = target("linux-aarch64", "3.13")
    assert (chosen.machine, chosen.abi) == ("aarch64", "cp313")


def test_glibc_of_tags_wheels_and_a_wheelhouse():
    assert tag_glibc("manylinux_2_28_aarch64") == (2, 28)
    assert tag_glibc("manylinux2014_x86_64") == (2, 17)
    assert tag_glibc("any") is None
    # a wheel with several platform tags installs where its loosest one does
    simplejpeg = "simplejpeg-1.9.0-cp311-cp311-manylinux2014_aarch64.manylinux_2_28_aarch64.whl"
    assert wheel_glibc(simplejpeg) == (2, 17)
    assert wheel_glibc("click-8.5.1-py3-none-any.whl") is None
    onnxruntime = "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_aarch64.whl"
    numpy = "numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl"
    assert kit_glibc([simplejpeg, numpy, onnxruntime, "click-8.5.1-py3-none-any.whl"]) == (2, 28)
    assert kit_glibc(["click-8.5.1-py3-none-any.whl"]) is None
