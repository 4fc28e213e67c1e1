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
