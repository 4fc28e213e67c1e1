"""Optional extras: a verb that needs one this install lacks says so in one line, up front.

The edge install (`cnnkit[runtime]`) has no torch and no matplotlib. Without this check,
`cnnkit train` there ended in a 30-line ModuleNotFoundError, and `bench --plot` failed only
after the whole benchmark had run.
"""

from __future__ import annotations

import functools
import importlib.util

from toolkit.errors import CnnkitError

# extra -> the import names it provides that the verbs needing it import.
EXTRAS = {
    "train": ("torch", "sklearn", "matplotlib", "onnxscript"),
    "plot": ("matplotlib",),
    "serve": ("uvicorn", "starlette", "prometheus_client", "multipart"),
}
# The pip extra that brings each of them (train includes plot).
INSTALL = {"train": "train", "plot": "plot", "serve": "serve"}


def importable(name: str) -> bool:
    """Whether `import name` would find a module, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses the name counts as missing
        return False


def missing_modules(extra: str) -> list[str]:
    """The import names of `extra` that this environment cannot find."""
    return [name for name in EXTRAS[extra] if not importable(name)]


def require_extra(extra: str, what: str) -> None:
    """Raise one CnnkitError line naming the extra to install when `what` cannot run here."""
    lost = missing_modules(extra)
    if lost:
        raise CnnkitError(
            f"{what} needs {', '.join(lost)}, which this install lacks: "
            f"pip install 'cnnkit[{INSTALL[extra]}]' (the runtime extra alone profiles, "
            f"runs and benchmarks .onnx files)"
        )


def needs_extra(extra: str):
    """Decorator for a click command that cannot run without `extra`: checked before any work."""

    def decorate(command):
        callback = command.callback

        @functools.wraps(callback)
        def checked(*args, **kwargs):
            require_extra(extra, f"cnnkit {command.name}")
            return callback(*args, **kwargs)

        command.callback = checked
        command.short_help = f"[{INSTALL[extra]}] {command.get_short_help_str(limit=60)}"
        return command

    return decorate
