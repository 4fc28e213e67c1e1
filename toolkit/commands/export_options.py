"""The option groups of `cnnkit export` and `cnnkit quantize`: flags -> ExportOptions and
QuantizeOptions (toolkit/export/options.py), built once and handed to the callback whole.
"""

from __future__ import annotations

import click

from toolkit.commands.common import SizeParam, parse_floats, parse_model_args, quiet_option
from toolkit.commands.options import COUNT, COUNT0, FRACTION, NON_NEGATIVE, group

# --- export: what a zoo name or module is told, and how the file is written -------------
OVERRIDE_OPTIONS = [
    click.option("--num-classes", type=COUNT, help="Zoo names: output classes."),
    click.option("--in-channels", type=COUNT, help="Zoo names: input channels."),
    click.option("--input-size", type=SizeParam(), help="Zoo names, modules: example input C,H,W."),
    click.option("--model-arg", multiple=True, help="Zoo names: builder option KEY=VALUE."),
    click.option(
        "--weights",
        type=click.Path(),
        help="Zoo names: torchvision/timm .pth, cnnkit .pt, or torchvision:NAME (downloaded); "
        "modules: their own state dict.",
    ),
    click.option(
        "--task",
        type=click.Choice(["classification", "segmentation"]),
        help="Modules: what the logits mean (default classification).",
    ),
    click.option(
        "--mean",
        help="Zoo names, modules: per-channel mean (default 0.5; ImageNet's with --weights).",
    ),
    click.option("--std", help="Zoo names, modules: per-channel std (default 0.5; ImageNet's)."),
    click.option("--classes", help="Zoo names, modules: comma-separated class names (0..K-1)."),
]
WRITE_OPTIONS = [
    click.option("--opset", type=click.IntRange(min=7), help="ONNX opset (dynamo writes >= 18)."),
    click.option("--simplify", is_flag=True, help="Simplify with onnxslim (parity re-checked)."),
    click.option("--no-parity", is_flag=True, help="Skip the torch vs onnxruntime parity check."),
    click.option(
        "--atol", type=NON_NEGATIVE, default=1e-4, show_default=True, help="Parity abs tolerance."
    ),
    click.option(
        "--rtol", type=NON_NEGATIVE, default=1e-3, show_default=True, help="Parity rel tolerance."
    ),
    click.option("--external-data", is_flag=True, help="Weights in OUT.data beside the file."),
    quiet_option,
]
EDGE_OPTIONS = [
    click.option(
        "--embed-preprocess",
        is_flag=True,
        help="Self-contained file: uint8 NHWC `pixels` in; /255, mean/std, layout and "
        "softmax/argmax in the graph (outputs probs + label, or mask).",
    ),
    click.option(
        "--resize",
        is_flag=True,
        help="With --embed-preprocess: take any H x W and resize in the graph (bilinear, "
        "antialiased: infer's stretch).",
    ),
    click.option(
        "--seg-probs",
        is_flag=True,
        help="With --embed-preprocess, segmentation: also output probs.",
    ),
    click.option(
        "--format",
        "file_format",
        type=click.Choice(["onnx", "ort"]),
        default="onnx",
        show_default=True,
        help="ort: onnxruntime's ORT format for minimal builds, with its operator configs.",
    ),
    click.option(
        "--target-platform",
        type=click.Choice(["amd64", "arm"]),
        help="--format ort: optimise for this CPU (default: portable to both).",
    ),
    click.option(
        "--calib-dir",
        type=click.Path(),
        help="--embed-preprocess: images to check the file on (default: the run's val split).",
    ),
    click.option(
        "--force", is_flag=True, help="Write a self-contained file even below its parity rule."
    ),
]


def export_group(target: str = "options"):
    """The source overrides, --opset, --simplify, --no-parity, --atol, --rtol,
    --external-data, --quiet, the edge flags -> ExportOptions."""
    return group(target, build_export, [*OVERRIDE_OPTIONS, *WRITE_OPTIONS, *EDGE_OPTIONS])


def build_export(**values):
    """ExportOptions from the export group's flags."""
    from toolkit.export.options import EdgeOptions, ExportOptions, ModelOverrides

    classes = values["classes"]
    overrides = ModelOverrides(
        num_classes=values["num_classes"],
        in_channels=values["in_channels"],
        input_size=values["input_size"],
        model_args=parse_model_args(values["model_arg"]),
        mean=parse_floats(values["mean"], "--mean"),
        std=parse_floats(values["std"], "--std"),
        classes=[c.strip() for c in classes.split(",")] if classes else None,
        weights=values["weights"],
        task=values["task"],
    )
    return ExportOptions(
        overrides=overrides,
        opset=values["opset"],
        simplify=values["simplify"],
        parity=not values["no_parity"],
        atol=values["atol"],
        rtol=values["rtol"],
        external_data=values["external_data"],
        quiet=values["quiet"],
        edge=EdgeOptions(
            embed_preprocess=values["embed_preprocess"],
            resize=values["resize"],
            seg_probs=values["seg_probs"],
            format=values["file_format"],
            target_platform=values["target_platform"],
            calib_dir=values["calib_dir"],
            force=values["force"],
        ),
    )


# --- quantize: mode, samples, the agreement rule, --auto ---------------------------------
SAMPLE_OPTIONS = [
    click.option(
        "--mode",
        type=click.Choice(["static", "dynamic", "fp16"]),
        default="static",
        show_default=True,
        help="static: QDQ uint8 activations, int8 per-channel weights; dynamic: for FC-heavy "
        "nets; fp16: for CUDA.",
    ),
    click.option(
        "--calibration",
        type=click.Choice(["minmax", "entropy", "percentile"]),
        default="minmax",
        show_default=True,
        help="Static mode: how activation ranges are calibrated.",
    ),
    click.option(
        "--samples",
        type=COUNT,
        default=256,
        show_default=True,
        help="Calibration samples.",
    ),
    click.option(
        "--calib-dir",
        type=click.Path(),
        help="Images to calibrate on (a held-out quarter is compared on, unless --eval-dir).",
    ),
    click.option("--eval-dir", type=click.Path(), help="Other images to compare fp32 and INT8 on."),
    click.option("--data", help="Data source (default: the run's config.json), e.g. digits."),
    click.option("--split", default="val", show_default=True, help="Split to compare on."),
]
VERDICT_OPTIONS = [
    click.option(
        "--min-agreement",
        type=FRACTION,
        default=0.98,
        show_default=True,
        help="Refuse below this top-1 agreement with fp32.",
    ),
    click.option("--force", is_flag=True, help="Write even below --min-agreement."),
    click.option(
        "--auto",
        is_flag=True,
        help="Static mode: keep the layers INT8 breaks in float, one at a time, until "
        "--min-agreement is reached (and refuse when that mix is not faster than fp32).",
    ),
    click.option(
        "--batch-size",
        type=COUNT,
        default=8,
        show_default=True,
        help="--auto: batch size its latencies are measured at.",
    ),
    click.option(
        "--max-steps",
        type=COUNT0,
        default=10,
        show_default=True,
        help="--auto: most tensors to keep in float.",
    ),
    click.option(
        "--explain", is_flag=True, help="On a refusal: the five worst layers and the fix."
    ),
    quiet_option,
]


def quantize_group(target: str = "options"):
    """--mode, --calibration, --samples, --calib-dir, --eval-dir, --data, --split,
    --min-agreement, --force, --auto (--batch-size, --max-steps), --explain, --quiet
    -> QuantizeOptions."""
    return group(target, build_quantize, [*SAMPLE_OPTIONS, *VERDICT_OPTIONS])


def build_quantize(*, auto, batch_size, max_steps, **values):
    """QuantizeOptions from the quantize group's flags (AutoOptions only with --auto)."""
    from toolkit.export.options import AutoOptions, QuantizeOptions

    auto_options = AutoOptions(batch_size=batch_size, max_steps=max_steps) if auto else None
    return QuantizeOptions(auto=auto_options, **values)
