"""The typed options of export and quantize (torch-free).

The CLI's option groups (toolkit/commands/export_options.py) build these once; the library
passes them down whole. Keyword conveniences (`export_onnx("lenet", opset=17)`,
`quantize_onnx(path, samples=64)`) are routed to the field of the same name, as for
`Predictor`: an unknown name is a TypeError, None means the default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.runtime.options import routed, updated

__all__ = ["AutoOptions", "EdgeOptions", "ExportOptions", "ModelOverrides", "QuantizeOptions"]


@dataclass(frozen=True)
class ModelOverrides:
    """What a zoo name or a module may be told (a checkpoint carries its own: an error)."""

    num_classes: int | None = None
    in_channels: int | None = None
    input_size: tuple[int, int, int] | None = None
    model_args: dict | None = None  # builder options, KEY -> value
    mean: list[float] | None = None
    std: list[float] | None = None
    classes: list[str] | None = None
    weights: str | Path | None = None  # torchvision/timm .pth, cnnkit .pt, a module's own
    task: str | None = None  # modules only: classification | segmentation

    def updated(self, **keywords) -> ModelOverrides:
        """A copy with these fields changed (None: left as it is)."""
        (own,) = routed(keywords, ModelOverrides)
        return updated(self, own)


@dataclass(frozen=True)
class EdgeOptions:
    """What export writes for edge devices: a self-contained file, the ORT format, or both."""

    embed_preprocess: bool = False  # uint8 NHWC pixels in, probs/label or mask out
    resize: bool = False  # with embed_preprocess: an in-graph Resize from any H x W
    seg_probs: bool = False  # with embed_preprocess, segmentation: also output probs
    format: str = "onnx"  # "onnx" | "ort" (onnxruntime's format for minimal builds)
    target_platform: str | None = None  # "amd64" | "arm" for the ORT format; None: portable
    calib_dir: str | Path | None = None  # the images the self-contained parity runs on
    force: bool = False  # write even when that parity falls short

    @property
    def wanted(self) -> bool:
        """True when the plain .onnx is not all that is asked for."""
        return self.embed_preprocess or self.format == "ort"

    @property
    def given(self) -> bool:
        """True when any edge flag was given (export_edge checks how they combine)."""
        return self != EdgeOptions()


@dataclass(frozen=True)
class ExportOptions:
    """How to build, write and verify a file: the source overrides, opset, parity, layout."""

    overrides: ModelOverrides = field(default_factory=ModelOverrides)
    opset: int | None = None
    simplify: bool = False  # onnxslim, parity re-checked
    parity: bool = True  # torch vs onnxruntime on random inputs
    atol: float = 1e-4
    rtol: float = 1e-3
    external_data: bool = False  # weights in OUT.data beside the file
    quiet: bool = False
    edge: EdgeOptions = field(default_factory=EdgeOptions)

    @classmethod
    def of(cls, **keywords) -> ExportOptions:
        """Options from flat keywords (opset=..., num_classes=..., quiet=...)."""
        return cls().updated(**keywords)

    def updated(self, **keywords) -> ExportOptions:
        """A copy with flat keywords applied to the overrides or to these fields."""
        overrides, own = routed(keywords, ModelOverrides, ExportOptions)
        return dataclasses.replace(self, overrides=self.overrides.updated(**overrides), **own)


@dataclass(frozen=True)
class AutoOptions:
    """--auto: where latency is measured and how many tensors may be kept in float."""

    batch_size: int = 8
    max_steps: int = 10


@dataclass(frozen=True)
class QuantizeOptions:
    """How to quantize, on which samples to calibrate and compare, and when to refuse."""

    mode: str = "static"  # static | dynamic | fp16
    calibration: str = "minmax"  # minmax | entropy | percentile (static mode)
    samples: int = 256  # calibration samples
    calib_dir: str | Path | None = None  # images to calibrate on
    eval_dir: str | Path | None = None  # other images to compare on
    data: str | None = None  # data source (default: the run's config.json)
    split: str = "val"  # the split compared on
    min_agreement: float = 0.98  # refuse below this top-1 agreement with fp32
    force: bool = False  # write even below min_agreement
    auto: AutoOptions | None = None  # static INT8 keeping the layers it breaks in float
    explain: bool = False  # a refusal names the worst layers and the fix
    quiet: bool = False

    @classmethod
    def of(cls, **keywords) -> QuantizeOptions:
        """Options from flat keywords (mode=..., samples=..., quiet=...)."""
        return cls().updated(**keywords)

    def updated(self, **keywords) -> QuantizeOptions:
        """A copy with these fields changed (None: left as it is)."""
        (own,) = routed(keywords, QuantizeOptions)
        return updated(self, own)
