"""Self-contained files: uint8 NHWC `pixels` in, `probs` and `label` (or a `mask`) out.

What cnnkit's runtime does in Python around a plain file -- Pillow's bilinear resize, /255,
mean/std, NHWC -> NCHW before; softmax and argmax after -- becomes ONNX nodes joined to the
model with onnx.compose, so any onnxruntime in any language runs the file with no cnnkit
code. The normalisation nodes repeat the runtime's float32 arithmetic step for step
(Cast, Div 255, Sub mean, Div std), so at the model's size the model sees the very same
numbers. The in-graph Resize (`--resize`) runs on the uint8 pixels, as Pillow does, with
antialiasing and edge weights renormalised (`exclude_outside`), Pillow's filter; it lands
within one grey level of Pillow (docs/edge.md has the measured figures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolkit.errors import CnnkitError

PIXELS, PROBS, LABEL, MASK = "pixels", "probs", "label", "mask"
PRE, POST = "cnnkit_pre/", "cnnkit_post/"  # node and tensor names of the wrapper
RESIZE_OPSET = 18  # Resize's `antialias` and `axes` attributes
MAX_MASK_CLASSES = 255  # a uint8 mask (255 stays free, as the runtime's ignore value)


@dataclass(frozen=True)
class Wrapping:
    """What the wrapper must know about the model inside: its image input and read output."""

    input: str
    layout: str  # "NCHW" | "NHWC" of the model's own input
    output: str
    reading: str  # "logits" | "probs" | "segmentation-scores"
    task: str
    channels: int
    size: tuple[int, int]  # (H, W) the model takes
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_classes: int | None  # K when the file fixes it
    resize: bool  # an in-graph Resize from any H x W
    seg_probs: bool = False  # segmentation: also output `probs`


def wrapping_of(interp, resize: bool, seg_probs: bool = False) -> Wrapping:
    """The Wrapping of an interpreted plain file; one line when it cannot be wrapped."""
    where = interp.path
    if interp.metadata.self_contained:
        raise CnnkitError(f"{where}: already self-contained (its input is uint8 pixels)")
    from toolkit.runtime.interpret import Use

    interp.require(Use.INFER)  # images go in, classes or a mask come out
    if len(interp.inputs) > 1:
        names = ", ".join(t.name for t in interp.inputs)
        raise CnnkitError(f"{where}: --embed-preprocess takes single-input models ({names})")
    if interp.input_dtype != "float32":
        raise CnnkitError(
            f"{where}: input {interp.image_input!r} is {interp.input_dtype}; "
            "--embed-preprocess wraps float32 inputs"
        )
    if interp.reading == "segmentation-labels":
        raise CnnkitError(f"{where}: its output is already a label map; nothing to embed")
    if seg_probs and interp.spec.task != "segmentation":
        raise CnnkitError("--seg-probs: classification files always output probs")
    spec = interp.spec
    k = interp.output_info().shape[1] if len(interp.output_info().shape) > 1 else None
    if spec.task == "segmentation" and isinstance(k, int) and k > MAX_MASK_CLASSES:
        raise CnnkitError(
            f"{where}: {k} classes do not fit the uint8 mask of a self-contained file "
            f"(at most {MAX_MASK_CLASSES}); use the plain file"
        )
    return Wrapping(
        input=interp.image_input,
        layout=interp.layout,
        output=interp.output,
        reading=interp.reading,
        task=spec.task,
        channels=spec.channels,
        size=spec.size,
        mean=spec.mean,
        std=spec.std,
        num_classes=k if isinstance(k, int) else None,
        resize=resize,
        seg_probs=seg_probs,
    )


def self_contained(model, wrapping: Wrapping):
    """The model (an onnx.ModelProto) with the preprocessing before it and the reading after."""
    from onnx import compose

    if wrapping.resize:
        model = at_least_opset(model, RESIZE_OPSET)
    pre = _model_like(model, preprocessing(wrapping))
    joined = compose.merge_models(pre, model, io_map=[(PRE + "input", wrapping.input)])
    post = _model_like(model, postprocessing(wrapping))
    io_map = [(wrapping.output, POST + "scores")]
    if wrapping.task == "segmentation" and wrapping.resize:
        io_map.append((PRE + "size", POST + "size"))
    outputs = [o.name for o in post.graph.output]
    return one_import_per_domain(compose.merge_models(joined, post, io_map=io_map, outputs=outputs))


def one_import_per_domain(model):
    """merge_models lists a shared opset once per model joined; checkers want it once."""
    seen = {}
    for opset in model.opset_import:
        seen.setdefault(opset.domain or "", opset.version)
    del model.opset_import[:]
    for domain, version in seen.items():
        model.opset_import.add(domain=domain, version=version)
    return model


def opset_of(model) -> int:
    """The default-domain opset a model imports."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def at_least_opset(model, version: int):
    """The model converted to `version` when it imports an older opset (onnx's converter)."""
    from onnx import version_converter

    have = opset_of(model)
    if have >= version:
        return model
    try:
        return version_converter.convert_version(model, version)
    except Exception as exc:  # the converter raises bare errors for ops it cannot lift
        raise CnnkitError(
            f"--resize needs opset {version} (Resize with antialiasing); converting this "
            f"opset-{have} file failed ({type(exc).__name__}); re-export it with --opset {version}"
        ) from None


def _model_like(model, graph):
    """A ModelProto for `graph` with the IR version and opsets of `model` (compose wants both)."""
    from onnx import helper

    return helper.make_model(graph, ir_version=model.ir_version, opset_imports=model.opset_import)


def preprocessing(w: Wrapping):
    """pixels (uint8 N,H,W,C) -> [Resize] -> Cast -> /255 -> -mean -> /std -> [Transpose]."""
    from onnx import TensorProto, helper, numpy_helper

    c, (h, w_) = w.channels, w.size
    dims = ["N", "height", "width", c] if w.resize else ["N", h, w_, c]
    pixels = helper.make_tensor_value_info(PIXELS, TensorProto.UINT8, dims)
    constants = [
        numpy_helper.from_array(np.array(255, np.float32), PRE + "255"),
        numpy_helper.from_array(np.asarray(w.mean, np.float32), PRE + "mean"),
        numpy_helper.from_array(np.asarray(w.std, np.float32), PRE + "std"),
    ]
    nodes, outputs, current = [], [], PIXELS
    if w.resize:
        constants.append(numpy_helper.from_array(np.array([h, w_], np.int64), PRE + "sizes"))
        nodes.append(_resize(current, PRE + "resized", PRE + "sizes", "linear"))
        current = PRE + "resized"
    steps = [
        ("Cast", [current], {"to": TensorProto.FLOAT}),
        ("Div", [None, PRE + "255"], {}),
        ("Sub", [None, PRE + "mean"], {}),
        ("Div", [None, PRE + "std"], {}),
    ]
    if w.layout == "NCHW":
        steps.append(("Transpose", [None], {"perm": [0, 3, 1, 2]}))
    for i, (op, inputs, attrs) in enumerate(steps):
        inputs = [current if name is None else name for name in inputs]
        current = PRE + f"{i}_{op.lower()}"
        nodes.append(helper.make_node(op, inputs, [current], name=current, **attrs))
    nodes.append(helper.make_node("Identity", [current], [PRE + "input"], name=PRE + "input"))
    shape = [None] * 4
    outputs.append(helper.make_tensor_value_info(PRE + "input", TensorProto.FLOAT, shape))
    if w.task == "segmentation" and w.resize:
        nodes.append(
            helper.make_node("Shape", [PIXELS], [PRE + "size"], name=PRE + "size", start=1, end=3)
        )
        outputs.append(helper.make_tensor_value_info(PRE + "size", TensorProto.INT64, [2]))
    return helper.make_graph(nodes, "cnnkit_pre", [pixels], outputs, initializer=constants)


def _resize(source: str, target: str, sizes: str, mode: str):
    """Resize of the H, W axes of an NHWC (or NHW) tensor, Pillow's way for `mode`."""
    from onnx import helper

    if mode == "linear":  # Pillow's BILINEAR: a triangle filter widened when shrinking
        attrs = {"antialias": 1, "exclude_outside": 1}
    else:  # Pillow's NEAREST: the source pixel whose area holds the target's centre
        attrs = {"nearest_mode": "round_prefer_ceil"}
    return helper.make_node(
        "Resize",
        [source, "", "", sizes],
        [target],
        name=target,
        mode=mode,
        axes=[1, 2],
        coordinate_transformation_mode="half_pixel",
        **attrs,
    )


def postprocessing(w: Wrapping):
    """scores -> probs (softmax) and label (argmax); segmentation: mask (argmax, uint8)."""
    from onnx import TensorProto, helper

    scores = POST + "scores"
    inputs = [helper.make_tensor_value_info(scores, TensorProto.FLOAT, None)]
    if w.task == "segmentation":
        nodes, outputs = _mask_nodes(w, inputs)
    else:
        nodes, outputs = _class_nodes(w)
    return helper.make_graph(nodes, "cnnkit_post", inputs, outputs)


def _class_nodes(w: Wrapping) -> tuple[list, list]:
    """Flatten [N,K(,1,1)] scores, softmax them (unless they are probabilities) and argmax."""
    from onnx import TensorProto, helper

    flat = POST + "flat"
    nodes = [helper.make_node("Flatten", [POST + "scores"], [flat], name=flat, axis=1)]
    if w.reading == "logits":
        nodes.append(helper.make_node("Softmax", [flat], [PROBS], name=POST + "softmax", axis=1))
    else:
        nodes.append(helper.make_node("Identity", [flat], [PROBS], name=POST + "probs"))
    # argmax of the scores themselves: float32 softmax can tie two logits that differ
    nodes.append(
        helper.make_node("ArgMax", [flat], [LABEL], name=POST + "argmax", axis=1, keepdims=0)
    )
    outputs = [
        helper.make_tensor_value_info(PROBS, TensorProto.FLOAT, ["N", w.num_classes]),
        helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["N"]),
    ]
    return nodes, outputs


def _mask_nodes(w: Wrapping, inputs: list) -> tuple[list, list]:
    """argmax over K as a uint8 mask, resized (nearest) back to the pixels' H x W."""
    from onnx import TensorProto, helper

    scores = POST + "scores"
    nodes = [
        helper.make_node(
            "ArgMax", [scores], [POST + "argmax"], name=POST + "argmax", axis=1, keepdims=0
        ),  # fmt: skip
        helper.make_node(
            "Cast", [POST + "argmax"], [POST + "labels"], name=POST + "labels", to=TensorProto.UINT8
        ),  # fmt: skip
    ]
    if w.resize:
        inputs.append(helper.make_tensor_value_info(POST + "size", TensorProto.INT64, [2]))
        nodes.append(_resize(POST + "labels", MASK, POST + "size", "nearest"))
        dims = ["N", "height", "width"]
    else:
        nodes.append(helper.make_node("Identity", [POST + "labels"], [MASK], name=POST + "mask"))
        dims = ["N", *w.size]
    outputs = [helper.make_tensor_value_info(MASK, TensorProto.UINT8, dims)]
    if w.seg_probs:
        nodes.append(helper.make_node("Softmax", [scores], [PROBS], name=POST + "softmax", axis=1))
        outputs.append(helper.make_tensor_value_info(PROBS, TensorProto.FLOAT, None))
    return nodes, outputs
