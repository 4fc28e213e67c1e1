"""Bench section: the fp32 and INT8 files of the digits model compared layer by layer.

`cnnkit diff model.int8.onnx model.onnx --layerwise` on the digits test split: the output
numbers, every matched tensor's SQNR (whole and worst channel), the first tensor below the
SQNR floor, the Conv weights' SQNR, and a PNG of SQNR per layer beside REPORT.md.
"""

from __future__ import annotations

from pathlib import Path

PNG = "int8_layers.png"
MIN_SQNR = 10.0  # dB, the floor `cnnkit diff` applies against a QDQ file by default


def int8_layerwise(fp32: Path, int8: Path, samples: int) -> dict:
    """DiffReport of int8 (A) against fp32 (B, the reference) as a plain dict."""
    from toolkit.diff import DiffOptions, SideSpec, Tolerance, diff_models

    options = DiffOptions(
        data="digits",
        split="test",
        samples=samples,
        tolerance=Tolerance(None, None, min_sqnr=MIN_SQNR),
        layerwise=True,
        quiet=True,
    )
    return diff_models(SideSpec(str(int8)), SideSpec(str(fp32)), options).to_dict()


def draw(section: dict, out: Path) -> str:
    """The PNG of SQNR per layer in `out`; its file name."""
    from toolkit.diff import DiffReport
    from toolkit.diff.plot import plot_layers

    fields = {k: v for k, v in section["diff"].items() if k != "ok"}
    plot_layers(DiffReport(**fields), out / PNG)
    return PNG


def _db(value) -> str:
    return "inf" if value is None else f"{value:.1f}"


def markdown(section: dict) -> list[str]:
    """The REPORT.md section."""
    from toolkit.bench.report_md import table

    diff = section["diff"]
    out = diff["outputs"][0]
    agreement = diff["agreement"]
    layers = [
        [i, row["name"], row["op"], _db(row["sqnr_db"]), _db(row["worst_channel_sqnr_db"]),
         "yes" if row["ok"] else "**NO**"]
        for i, row in enumerate(diff["layers"])
    ]  # fmt: skip
    weights = [
        [row["node"], row["channels"], _db(row["sqnr_db"]), _db(row["worst_channel_sqnr_db"])]
        for row in diff["weights"]
    ]
    first = diff["first_failing"]
    return [
        f"## INT8 vs fp32 layer by layer ({section['model']}, `cnnkit diff --layerwise`)",
        "",
        f"`cnnkit diff {section['int8_file']} model.onnx --layerwise` on {diff['samples']} "
        f"images of the {diff['inputs']}: top-1 agreement "
        f"{agreement['top1_agreement']:.1%}; logits SQNR {_db(out['sqnr_db'])} dB, cosine "
        f"{out['cosine']:.5f}, max abs {out['max_abs']:.3g}. Rule: {diff['rule']}. "
        + (f"First tensor out of tolerance: `{first}`." if first else "Every tensor passes."),
        "",
        f"![SQNR per layer]({section['png']})",
        "",
        *table(["#", "tensor", "op", "SQNR dB", "worst channel dB", "ok"], layers),
        "",
        "Conv weights, float vs dequantised int8 (per-channel):",
        "",
        *table(["node", "channels", "SQNR dB", "worst channel dB"], weights),
        "",
    ]
