"""What this install runs on, for `cnnkit --version` and bug reports."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import platform

from toolkit import __version__

# Packages reported when installed, in the order a bug report reads them.
PACKAGES = ("onnxruntime", "onnx", "numpy", "pillow", "torch")


def package_version(name: str) -> str | None:
    """The installed distribution's version, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def onnxruntime_providers() -> list[str]:
    """The execution providers this onnxruntime build offers (empty when it is missing)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return []
    return list(importlib.import_module("onnxruntime").get_available_providers())


def environment() -> dict:
    """cnnkit, Python and the versions of the packages it runs on (None: not installed)."""
    env = {"cnnkit": __version__, "python": platform.python_version()}
    env.update({name: package_version(name) for name in PACKAGES})
    env["onnxruntime_providers"] = onnxruntime_providers()
    env["platform"] = platform.platform()
    return env


def environment_lines(env: dict) -> list[str]:
    """One line per entry, e.g. 'onnxruntime 1.22.0 (CPUExecutionProvider)'."""
    lines = [f"cnnkit {env['cnnkit']}", f"python {env['python']}"]
    for name in PACKAGES:
        version = env[name] or "not installed"
        if name == "onnxruntime" and env[name]:
            version += f" ({', '.join(env['onnxruntime_providers'])})"
        lines.append(f"{name} {version}")
    lines.append(f"platform {env['platform']}")
    return lines
