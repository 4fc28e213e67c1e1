"""The typed options of the runtime: how a session opens and how a Predictor reads a model.

The CLI's option groups (toolkit/commands/options.py) build these once; the library passes
them down whole, so adding a flag means one field here and one option there. Keyword
conveniences (`Predictor("m.onnx", device="cpu", topk=3)`) are routed to the field of the
same name, so the Python API stays short to call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from toolkit.runtime.preprocess import SpecFlags

__all__ = ["PredictorOptions", "SessionOptions", "SpecFlags", "routed", "updated"]


@dataclass(frozen=True)
class SessionOptions:
    """How an onnxruntime session opens: --device, --provider, --threads, --graph-opt."""

    device: str = "auto"  # auto | cpu | cuda | cuda:N
    provider: str | None = None  # any other execution provider, by name
    threads: int | None = None  # intra-op threads; None: onnxruntime's default (all cores)
    allow_fallback: bool = False  # run on CPU when the asked device is missing
    graph_optimization: str = "all"  # disable | basic | extended | all
    enable_profiling: bool = False
    # --spin/--no-spin. False: idle intra-op threads sleep, leaving the cores to decode
    # threads and the server; None: the verb decides (onnxruntime's spinning for bench, off
    # where other threads share the cores: infer's runner, serve)
    spinning: bool | None = None


@dataclass(frozen=True)
class PredictorOptions:
    """Everything a Predictor is told: its session, the preprocessing flags, how rows read."""

    session: SessionOptions = field(default_factory=SessionOptions)
    spec: SpecFlags = field(default_factory=SpecFlags)
    topk: int = 5  # labels kept per input
    max_pixels: int | None = None  # refuse larger images (None: Pillow's limit)
    decode: str = "fast"  # fast | full (exact pixels)

    @classmethod
    def of(cls, **keywords) -> PredictorOptions:
        """Options from flat keywords (device=..., size=..., topk=...)."""
        return cls().updated(**keywords)

    def updated(self, **keywords) -> PredictorOptions:
        """A copy with flat keywords applied to the session, the spec or these fields."""
        session, spec, own = routed(keywords, SessionOptions, SpecFlags, PredictorOptions)
        return dataclasses.replace(
            self,
            session=updated(self.session, session),
            spec=updated(self.spec, spec),
            **own,
        )


def field_names(kind) -> set[str]:
    """The field names of a dataclass type."""
    return {f.name for f in dataclasses.fields(kind)}


def routed(keywords: dict, *kinds) -> list[dict]:
    """Split keywords by the dataclass that has a field of that name (first wins).

    None values are dropped (they mean "the default"); a name no kind has is a TypeError,
    as for any unexpected keyword argument.
    """
    parts: list[dict] = [{} for _ in kinds]
    for name, value in keywords.items():
        owner = next((i for i, kind in enumerate(kinds) if name in field_names(kind)), None)
        if owner is None or name in ("session", "spec"):
            raise TypeError(f"unexpected keyword argument {name!r}")
        if value is not None:
            parts[owner][name] = value
    return parts


def updated(options, changes: dict):
    """`dataclasses.replace` that keeps the same object when there is nothing to change."""
    return dataclasses.replace(options, **changes) if changes else options
