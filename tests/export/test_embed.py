"""`export --embed-preprocess`: the self-contained file run by bare onnxruntime on uint8
pixels gives `cnnkit infer`'s labels (digits) and masks (digit-scenes), with and without
the in-graph Resize; `--format ort` files load in bare onnxruntime with equal outputs."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.e2e import cnnkit, ok
from toolkit.data import split_arrays
from toolkit.export import EdgeOptions, ExportOptions, export_edge
from toolkit.runtime import Predictor
from toolkit.runtime.inspection import inspect_model, render
from toolkit.runtime.masks import to_original
from toolkit.runtime.postprocess import argmax_masks


def edge(**fields) -> ExportOptions:
    """ExportOptions asking for the edge steps in `fields`, quietly."""
    return ExportOptions(quiet=True, edge=EdgeOptions(**fields))


def bare(path):
    """A bare onnxruntime session, as any consumer would open the file."""
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def digits_test():
    """The digits test split at its own 40x40 (uint8 NHWC) and at LeNet's 32x32."""
    own, _, _ = split_arrays("digits", "test", (1, 40, 40), 0)
    sized, _, _ = split_arrays("digits", "test", (1, 32, 32), 0)
    return np.asarray(own)[:200], np.asarray(sized)[:200]


@pytest.mark.parametrize("resize", [False, True])
def test_labels_equal_infer_on_the_digits_test_split(lenet_export, digits_test, tmp_path, resize):
    out = tmp_path / "lenet.self-contained.onnx"
    report = export_edge(lenet_export.path, out, edge(embed_preprocess=True, resize=resize))
    assert report.parity.ok and report.parity.origin.startswith("digits val split")
    session = bare(out)
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["cnnkit.self_contained"]) is True
    (pixels,) = session.get_inputs()
    assert (pixels.name, pixels.type) == ("pixels", "tensor(uint8)")
    assert [o.name for o in session.get_outputs()] == ["probs", "label"]
    own, sized = digits_test
    images = own if resize else sized  # --resize: each image at its own size
    probs, labels = session.run(None, {"pixels": images})
    rows = Predictor(lenet_export.path, quiet=True).predict(list(images[..., 0]))
    expected = np.array([int(row["label"]) for row in rows])
    agreement = (labels == expected).mean()
    assert agreement == 1.0 if not resize else agreement >= 0.995
    assert np.allclose(probs.sum(1), 1, atol=1e-5) and labels.dtype == np.int64


@pytest.mark.parametrize("resize", [False, True])
def test_masks_equal_infer_on_digit_scenes(fcn_onnx, tmp_path, resize):
    out = tmp_path / "fcn.self-contained.onnx"
    options = edge(embed_preprocess=True, resize=resize)
    report = export_edge(fcn_onnx, out, options)
    assert report.parity.ok
    session = bare(out)
    assert [o.name for o in session.get_outputs()] == ["mask"]
    scenes, _, _ = split_arrays("digit-scenes", "test", (1, 48, 40) if resize else (1, 32, 32), 0)
    predictor = Predictor(fcn_onnx, quiet=True)
    equal = total = 0
    for image in np.asarray(scenes)[:6]:
        (mask,) = session.run(None, {"pixels": image[None]})
        decoded = predictor.decode(image[..., 0])
        expected = to_original(argmax_masks(predictor.infer([decoded]))[0], decoded.geometry)
        assert mask.dtype == np.uint8 and mask.shape[1:] == expected.shape == image.shape[:2]
        equal, total = equal + int((mask[0] == expected).sum()), total + expected.size
    assert equal / total == 1.0 if not resize else equal / total >= 0.995


def test_ort_files_from_plain_and_self_contained_sources(lenet_export, tmp_path):
    plain_ort = export_edge(lenet_export.path, tmp_path / "plain.ort", edge(format="ort"))
    both = export_edge(
        lenet_export.path, tmp_path / "sc.ort", edge(embed_preprocess=True, format="ort")
    )
    for report, source_inputs in ((plain_ort, "input"), (both, "pixels")):
        ort_report = report.ort
        assert ort_report.metadata_kept and ort_report.parity_ok
        assert all(path.is_file() for path in ort_report.configs)
        assert "--include_ops_by_config" in ort_report.build_command
        session = bare(report.path)
        assert [i.name for i in session.get_inputs()] == [source_inputs]
    config = (tmp_path / "sc.required_operators.config").read_text()
    assert "Softmax" in config and "ArgMax" in config and "Conv" in config
    images = np.asarray(split_arrays("digits", "test", (1, 32, 32), 0)[0])[:16]
    labels = bare(both.path).run(["label"], {"pixels": images})[0]
    rows = Predictor(lenet_export.path, quiet=True).predict(list(images[..., 0]))
    assert labels.tolist() == [int(row["label"]) for row in rows]
    rows = Predictor(both.path, quiet=True).predict(list(images[..., 0]))  # the runtime on .ort
    assert [row["label"] for row in rows] == [str(label) for label in labels]
    shown = render(inspect_model(both.path))
    assert "ORT format" in shown and "self_contained: True" in shown and "[assumed]" not in shown


def test_int8_of_a_self_contained_file_keeps_its_wrapper_in_float(lenet_export, tmp_path):
    from toolkit.export import quantize_onnx
    from toolkit.export.embed import POST, PRE

    contained = lenet_export.path.with_name("model.self-contained.onnx")  # beside config.json
    export_edge(lenet_export.path, contained, edge(embed_preprocess=True))
    report = quantize_onnx(contained, tmp_path / "q.onnx", samples=64, quiet=True)
    assert report.agreement >= 0.98 and report.eval_source == "digits val split"
    import onnx

    nodes = onnx.load(str(report.path)).graph.node
    wrapper = [n for n in nodes if n.name.startswith((PRE, POST))]
    assert {"Cast", "Div", "Sub", "Softmax", "ArgMax"} <= {n.op_type for n in wrapper}
    quantized_inputs = {i for n in nodes if n.op_type == "QuantizeLinear" for i in n.input}
    normalised = {out for n in wrapper if n.op_type in ("Cast", "Div", "Sub") for out in n.output}
    assert not quantized_inputs & normalised
    images = np.asarray(split_arrays("digits", "test", (1, 32, 32), 0)[0])[:64]
    int8 = bare(report.path).run(["label"], {"pixels": images})[0]
    fp32 = bare(contained).run(["label"], {"pixels": images})[0]
    assert (int8 == fp32).mean() >= 0.95


def test_a_foreign_file_is_wrapped_with_the_mean_and_std_it_is_given(
    lenet_export, gray_images, tmp_path
):
    import onnx

    foreign = tmp_path / "foreign.onnx"
    proto = onnx.load(str(lenet_export.path))
    del proto.metadata_props[:]
    onnx.save(proto, str(foreign))
    assert_one_line_error(
        invoke("export", foreign, "--embed-preprocess"), "no cnnkit metadata", "--mean"
    )
    args = ("--mean", "0.25", "--std", "0.35", "--input-size", "1,32,32")
    out = tmp_path / "wrapped.onnx"
    result = invoke("export", foreign, "--embed-preprocess", *args, "--calib-dir", gray_images,
                    "-o", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{gray_images} (12 images): 100.00% of labels equal" in result.stdout


def test_bad_combinations_are_one_line_and_write_nothing(lenet_export, tmp_path):
    cases = [
        (("--format", "ort", "-o", tmp_path / "x.onnx"), ("--format ort", "x.ort")),
        (("--resize",), ("--embed-preprocess",)),
        (("--target-platform", "arm"), ("--format ort",)),
        ((), ("an .onnx SOURCE takes --embed-preprocess",)),
        (("--embed-preprocess", "--mean", "0.5"), ("carries cnnkit metadata",)),
        (("--embed-preprocess", "--seg-probs"), ("--seg-probs",)),
    ]
    for args, needles in cases:
        assert_one_line_error(invoke("export", lenet_export.path, *args, cwd=tmp_path), *needles)
    assert list(tmp_path.iterdir()) == []


def test_the_console_script_writes_the_self_contained_ort_with_its_configs(
    lenet_export, gray_images, tmp_path
):
    args = ("--embed-preprocess", "--format", "ort", "--calib-dir", gray_images)
    result = ok(cnnkit("export", lenet_export.path, *args, "-o", "lenet.ort", "--json",
                       cwd=tmp_path))  # fmt: skip
    report = json.loads(result.stdout)
    assert report["self_contained"]["agreement"] == 1.0 and report["ort"]["parity_ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lenet.ort",
        "lenet.required_operators.config",
        "lenet.required_operators_and_types.config",
    ]
