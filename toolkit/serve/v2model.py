"""A served model as the Open Inference Protocol sees it: metadata, inputs, outputs.

Inputs: the model's own tensor (FP32 NCHW, or UINT8 NHWC for a self-contained file) with
a batch axis, fed as it is; or a BYTES tensor of encoded images ([N] or [N, 1]), decoded
and preprocessed by the code `cnnkit infer` runs on files. Either way each sample goes
through the dynamic batcher on its own, so requests of any batch size are batched together.
Outputs: the model's output that cnnkit reads, plus `label` (BYTES) and `score` (FP32),
the row's fields, one per sample.
"""

from __future__ import annotations

import numpy as np

from toolkit.runtime.predictor import Predictor
from toolkit.runtime.preprocess import Decoded, Geometry, ImageBytes
from toolkit.serve.batcher import Answer
from toolkit.serve.tensors import BadTensor, InferRequest, InputTensor, datatype_of

PLATFORM = "onnxruntime_onnx"


def dims(shape) -> list[int]:
    """A TensorInfo shape in the protocol's spelling: -1 for a dynamic axis."""
    return [d if isinstance(d, int) and d > 0 else -1 for d in shape]


def tensor_metadata(predictor: Predictor) -> dict:
    """The inputs and outputs of a model's metadata answer."""
    interp = predictor.interpretation
    image, output = interp.input_info(), interp.output_info()
    rows = [
        {"name": "label", "datatype": "BYTES", "shape": [-1]},
        {"name": "score", "datatype": "FP32", "shape": [-1]},
    ]
    model = {"name": output.name, "datatype": datatype_of(output.dtype)}
    datatype = datatype_of(image.dtype)
    return {
        "platform": PLATFORM,
        "inputs": [{"name": image.name, "datatype": datatype, "shape": dims(image.shape)}],
        # A model output named like a row field is the model's (the row's is left out).
        "outputs": [{**model, "shape": dims(output.shape)}]
        + [r for r in rows if r["name"] != output.name],
    }


def the_input(predictor: Predictor, request: InferRequest) -> InputTensor:
    """The one input of a request; BadTensor when it is missing or there are others."""
    image = predictor.interpretation.input_info()
    takes = f"{image.name!r} ({datatype_of(image.dtype)} {dims(image.shape)}, or BYTES images)"
    if len(request.inputs) != 1:
        names = [t.name for t in request.inputs]
        raise BadTensor(f"the request has inputs {names}; the model takes one: {takes}")
    tensor = request.inputs[0]
    if tensor.datatype != "BYTES" and tensor.name != image.name:
        raise BadTensor(f"the request has no input {image.name!r}: the model takes {takes}")
    return tensor


def sample_count(predictor: Predictor, request: InferRequest) -> int:
    """How many inputs (the batch axis) the request holds; BadTensor without one."""
    tensor = the_input(predictor, request)
    if not tensor.shape or tensor.shape[0] < 1:
        raise BadTensor(f"input {tensor.name!r}: shape {list(tensor.shape)} has no samples")
    return tensor.shape[0]


def decode_request(predictor: Predictor, request: InferRequest) -> list[tuple[str, Decoded]]:
    """(key, preprocessed input) of each of the request's samples, for the batcher;
    BadTensor or ImageError (400) naming what is wrong."""
    tensor = the_input(predictor, request)
    prefix = request.id or "request"
    if tensor.datatype == "BYTES":
        inputs = decode_images(predictor, tensor, prefix)
    else:
        inputs = split_samples(predictor, tensor)
    return [(f"{prefix}[{i}]", decoded) for i, decoded in enumerate(inputs)]


def decode_images(predictor: Predictor, tensor: InputTensor, prefix: str) -> list[Decoded]:
    """A BYTES tensor [N] or [N, 1] of encoded images -> N preprocessed inputs."""
    if len(tensor.shape) not in (1, 2) or tensor.shape[1:] not in ((), (1,)):
        shape = list(tensor.shape)
        raise BadTensor(f"input {tensor.name!r}: BYTES images must be [N] or [N, 1], got {shape}")
    images = tensor.data.reshape(-1)
    return [
        predictor.decode(ImageBytes(f"{prefix}[{i}]", bytes(image)))  # the row's key
        for i, image in enumerate(images)
    ]


def split_samples(predictor: Predictor, tensor: InputTensor) -> list[Decoded]:
    """The model's own tensor [N, ...] -> N inputs, fed to the model as they are."""
    interp = predictor.interpretation
    image = interp.input_info()
    datatype = datatype_of(image.dtype)
    if tensor.datatype != datatype:
        raise BadTensor(
            f"input {tensor.name!r}: datatype {tensor.datatype}, the model takes {datatype}"
            " (or BYTES of encoded images)"
        )
    spec = interp.spec
    height, width = spec.size
    chw = (spec.channels, height, width)
    sample = chw if interp.layout == "NCHW" else (height, width, spec.channels)
    if len(tensor.shape) != 4 or tensor.shape[1:] != sample:
        raise BadTensor(
            f"input {tensor.name!r}: shape {list(tensor.shape)}, the model takes"
            f" [N, {', '.join(map(str, sample))}]"
        )
    if tensor.data.dtype.kind == "f" and not np.isfinite(tensor.data).all():
        raise BadTensor(f"input {tensor.name!r}: holds NaN or infinite values")
    full = (0, 0, width, height)
    samples = tensor.data if interp.layout == "NCHW" else tensor.data.transpose(0, 3, 1, 2)
    return [
        Decoded(np.ascontiguousarray(s), Geometry((width, height), full, full)) for s in samples
    ]


def output_tensors(
    predictor: Predictor, answers: list[Answer], wanted: tuple[str, ...] | None
) -> list[tuple[str, np.ndarray]]:
    """(name, array) of each output asked for (default: all), stacked over the samples;
    BadTensor for an output the model does not have."""
    available = {predictor.interpretation.output: lambda: np.stack([a.output for a in answers])}
    # A model output named like a row field is the model's.
    available.setdefault("label", lambda: labels(answers))
    available.setdefault(
        "score", lambda: np.array([a.row["score"] for a in answers], dtype=np.float32)
    )
    for output in wanted or ():
        if output not in available:
            raise BadTensor(f"no output named {output!r} (outputs: {', '.join(available)})")
    return [(output, available[output]()) for output in wanted or available]


def labels(answers: list[Answer]) -> np.ndarray:
    """The rows' labels as a BYTES array."""
    array = np.empty(len(answers), dtype=object)
    array[:] = [str(a.row["label"]).encode() for a in answers]
    return array


def failed_row(answers: list[Answer]) -> dict | None:
    """The first error row among the answers (the model gave NaN or infinite outputs)."""
    return next((a.row for a in answers if a.row.get("status") != "ok"), None)
