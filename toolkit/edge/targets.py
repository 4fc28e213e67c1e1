"""Which devices a kit can target, and the wheel tags `pip download` is told for one.

An air-gapped install needs every platform tag the device accepts spelled out to
`pip download` (pip issue 10760); a target onnxruntime publishes no wheel for (armv7,
32-bit x86, a Python outside its range) is refused here, before anything is downloaded.
Pure Python: the tests check this logic without a network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import CnnkitError

# --platform -> the machine name `uname -m` prints on such a device.
PLATFORMS = {"linux-x86_64": "x86_64", "linux-aarch64": "aarch64"}
# Targets users ask for that have no onnxruntime wheel on PyPI, and why.
REFUSED = {
    "linux-armv7l": "onnxruntime publishes no armv7 (32-bit ARM) wheels (its issues 24511, 8874)",
    "linux-armv6l": "onnxruntime publishes no 32-bit ARM wheels",
    "linux-i686": "onnxruntime publishes no 32-bit x86 wheels",
}
# The CPython versions onnxruntime 1.32 publishes Linux wheels for (the kit pins the
# build machine's onnxruntime; cnnkit itself needs >= 3.10).
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# The oldest and the newest glibc the kit's wheels may need (manylinux_2_17 is CentOS 7's;
# 2.28 covers Debian 10+, Ubuntu 20.04+ and Raspberry Pi OS / JetPack of those years).
GLIBC_RANGE = ((2, 17), (2, 28))
MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
LEGACY = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}


@dataclass(frozen=True)
class Target:
    """The device a kit is built for: platform (linux-aarch64) and Python (3.11)."""

    platform: str
    python: str

    @property
    def machine(self) -> str:
        """`uname -m` on the device: aarch64 or x86_64."""
        return PLATFORMS[self.platform]

    @property
    def abi(self) -> str:
        """The CPython ABI tag, e.g. cp311."""
        return "cp" + self.python.replace(".", "")


def target(platform: str, python: str) -> Target:
    """A checked Target; one CnnkitError line for anything onnxruntime has no wheel for."""
    if platform in REFUSED:
        raise CnnkitError(f"--platform {platform}: {REFUSED[platform]}; no kit can be built")
    if platform not in PLATFORMS:
        known = ", ".join(PLATFORMS)
        raise CnnkitError(f"--platform {platform!r}: expected one of {known}")
    if python not in PYTHONS:
        raise CnnkitError(
            f"--python {python!r}: onnxruntime has wheels for CPython {', '.join(PYTHONS)}; "
            "pick the device's python3 version among them"
        )
    return Target(platform, python)


def platform_tags(machine: str, glibc_range=GLIBC_RANGE) -> list[str]:
    """Every manylinux tag a device with the newest glibc of the range accepts, newest first.

    Both spellings: PEP 600's manylinux_2_NN_<arch> and the legacy manylinux2014 alias.
    """
    (major, oldest), (_, newest) = glibc_range
    tags = [f"manylinux_{major}_{minor}_{machine}" for minor in range(newest, oldest - 1, -1)]
    return [*tags, f"manylinux2014_{machine}"]


def pip_target_args(chosen: Target) -> list[str]:
    """The `pip download` flags that pick wheels for `chosen` and nothing else."""
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", chosen.python]
    for tag in platform_tags(chosen.machine):
        args += ["--platform", tag]
    return args


def tag_glibc(platform_tag: str) -> tuple[int, int] | None:
    """The glibc a manylinux platform tag needs; None for a tag that needs none (any)."""
    found = MANYLINUX.match(platform_tag)
    if found:
        return int(found.group(1)), int(found.group(2))
    return next((v for name, v in LEGACY.items() if platform_tag.startswith(f"{name}_")), None)


def wheel_glibc(filename: str) -> tuple[int, int] | None:
    """The oldest glibc a wheel installs on (its loosest platform tag); None: pure Python."""
    platforms = filename.removesuffix(".whl").split("-")[-1].split(".")
    needs = [tag_glibc(tag) for tag in platforms]
    if any(need is None for need in needs):
        return None
    return min(needs)


def kit_glibc(filenames) -> tuple[int, int] | None:
    """The glibc a whole wheelhouse needs: the most demanding of its wheels."""
    needs = [need for need in map(wheel_glibc, filenames) if need is not None]
    return max(needs) if needs else None
