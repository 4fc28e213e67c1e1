"""An ONNX graph ready to profile: a static input, every tensor's shape, the constants (torch-free).

Shapes come from onnx shape inference (with data propagation) on a light skeleton of the
model whose big weights are replaced by typed inputs, so nothing large is copied. Where
inference leaves a shape unknown, onnxruntime runs the model once with those tensors as
extra outputs and the measured shapes fill the gaps (announced on stderr).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import (
    load_external_data_for_model,
    load_external_data_for_tensor,
    uses_external_data,
)

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import load_onnx, read_metadata
from toolkit.progress import note

if TYPE_CHECKING:
    from collections.abc import Sequence

# Initializers at most this big stay in the skeleton (shape constants, Resize scales, ...).
SMALL_CONSTANT = 4096
# Ops whose output is a constant once every input shape is static.
SHAPE_OPS = {"Shape", "Size"}
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike"}


@dataclass
class Graph:
    """A loaded model with static shapes: what the counting and receptive-field passes read."""

    model: onnx.ModelProto
    name: str
    input_name: str  # the image input (the first rank-4 one, else the first)
    input_shape: tuple[int, ...]
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, int]
    constants: dict[str, TensorProto]  # initializers and Constant-node values, by tensor name
    producer: dict[str, onnx.NodeProto]
    folded: set[str] = field(default_factory=set)  # outputs of nodes computing constants
    metadata: ModelMeta = field(default_factory=ModelMeta)
    folder: Path | None = None  # where external data lives; weights are read only if needed
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # every input

    @property
    def nodes(self) -> list[onnx.NodeProto]:
        """The top-level nodes in topological order."""
        return list(self.model.graph.node)

    def is_constant(self, name: str) -> bool:
        """True for initializers, Constant outputs and values computed only from them."""
        return name in self.constants or name in self.folded

    def numel(self, name: str) -> int | None:
        """Number of elements of a tensor, None when its shape is unknown."""
        shape = self.shapes.get(name)
        return None if shape is None else int(np.prod(shape, dtype=np.int64))

    def value(self, name: str) -> np.ndarray | None:
        """The value of a small constant tensor (None if not an initializer/Constant)."""
        tensor = self.constants.get(name)
        if tensor is None:
            return None
        return numpy_helper.to_array(self.loaded(tensor))

    def loaded(self, tensor: TensorProto) -> TensorProto:
        """`tensor` with its external data read in (the profiler needs values of few tensors)."""
        if self.folder is not None and uses_external_data(tensor):
            load_external_data_for_tensor(tensor, str(self.folder))
            tensor.data_location = TensorProto.DEFAULT
            del tensor.external_data[:]
        return tensor


def load_graph(
    source: str | Path | onnx.ModelProto,
    *,
    input_size: Sequence[int] | dict[str, Sequence[int]] | None = None,
    batch: int = 1,
) -> Graph:
    """Load `source` (path or ModelProto), fix the input sizes and infer every tensor shape.

    `input_size` is C,H,W for the image input, or {input name: dims after the batch}.
    """
    if isinstance(source, onnx.ModelProto):
        model, name, folder = source, source.graph.name or "model", None
    else:
        # Weights stay on disk: counting needs their dims, not their values.
        model, name = load_onnx(source, load_external_data=False), Path(source).name
        folder = Path(source).parent
    metadata = read_metadata(model)
    constants = collect_constants(model)
    input_shapes = static_inputs(model, constants, input_size, batch, metadata, name)
    input_name = image_input(model, constants)
    graph = Graph(
        model=model,
        name=name,
        input_name=input_name,
        input_shape=input_shapes[input_name],
        input_shapes=input_shapes,
        shapes={},
        dtypes={},
        constants=constants,
        producer={out: node for node in model.graph.node for out in node.output if out},
        metadata=metadata,
        folder=folder,
    )
    infer_shapes(graph)
    graph.folded = fold_constants(graph)
    return graph


def collect_constants(model: onnx.ModelProto) -> dict[str, TensorProto]:
    """Initializers and Constant-node values by name (references, not copies)."""
    constants = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output:
            constants[node.output[0]] = constant_tensor(node)
    return constants


def constant_tensor(node: onnx.NodeProto) -> TensorProto:
    """The value of a Constant node as a TensorProto, whatever attribute holds it."""
    attr = node.attribute[0]
    if attr.name == "value":
        return attr.t
    value = helper.get_attribute_value(attr)
    if attr.name in ("value_float", "value_floats"):
        array = np.asarray(value, dtype=np.float32)
    elif attr.name in ("value_int", "value_ints"):
        array = np.asarray(value, dtype=np.int64)
    elif attr.name in ("value_string", "value_strings"):
        array = np.asarray(value, dtype=object)
    else:
        raise CnnkitError(f"Constant node {node.name!r} holds an unsupported {attr.name}")
    return numpy_helper.from_array(array, node.output[0])


def graph_inputs(model: onnx.ModelProto, constants: dict) -> list[onnx.ValueInfoProto]:
    """The inputs the caller feeds (initializers listed as inputs left out)."""
    return [i for i in model.graph.input if i.name not in constants]


def image_input(model: onnx.ModelProto, constants: dict) -> str:
    """The input that takes images: the first of rank 4, else the first."""
    inputs = graph_inputs(model, constants)
    ranked = [i for i in inputs if len(i.type.tensor_type.shape.dim) == 4]
    return (ranked or inputs)[0].name


def static_inputs(
    model: onnx.ModelProto,
    constants: dict,
    input_size: Sequence[int] | dict | None,
    batch: int,
    metadata: ModelMeta,
    name: str,
) -> dict[str, tuple[int, ...]]:
    """Every input's static shape: dynamic dims from batch and input_size (per input)."""
    inputs = graph_inputs(model, constants)
    if not inputs:
        raise CnnkitError(f"{name}: the model has no inputs to profile")
    from toolkit.runtime.decide import input_sizes

    image = image_input(model, constants)
    tensor = next(i for i in inputs if i.name == image)
    dims = [d.dim_value or None for d in tensor.type.tensor_type.shape.dim]
    sizes = input_sizes(input_size, [i.name for i in inputs], image, metadata, dims)
    several = len(inputs) > 1
    return {
        tensor.name: static_shape(tensor, sizes.get(tensor.name), batch, name, several)
        for tensor in inputs
    }


def static_shape(tensor, wanted, batch: int, name: str, named: bool) -> tuple[int, ...]:
    """One input's static shape; `named`: the flag to suggest is --input-size NAME=..."""
    dims = tensor.type.tensor_type.shape.dim
    wanted = list(wanted) if wanted else None
    flag = f"--input-size {tensor.name}=" if named else "--input-size "
    if wanted is not None and len(wanted) != len(dims) - 1:
        raise CnnkitError(
            f"{flag}{','.join(map(str, wanted))}: input {tensor.name!r} takes "
            f"{len(dims) - 1} dims after the batch"
        )
    shape = []
    for axis, dim in enumerate(dims):
        fixed = dim.dim_value if dim.HasField("dim_value") else None
        if axis == 0:
            if fixed is not None and fixed != batch:
                note(f"{name}: input {tensor.name!r} has a fixed batch of {fixed}; using it")
            shape.append(fixed if fixed is not None else batch)
            continue
        want = wanted[axis - 1] if wanted else None
        if fixed is not None and want is not None and int(want) != fixed:
            static = "x".join(str(d.dim_value or "?") for d in list(dims)[1:])
            asked = "x".join(str(v) for v in wanted)
            raise CnnkitError(
                f"{name}: input {tensor.name!r} has a fixed size {static}, "
                f"{flag.strip()} {asked} does not fit (export the model at that size)"
            )
        if fixed is None and want is None:
            example = "C,H,W" if len(dims) == 4 else ",".join(["D"] * (len(dims) - 1))
            raise CnnkitError(
                f"{name}: input {tensor.name!r} axis {axis} is dynamic; "
                f"give its size with {flag}{example}"
            )
        shape.append(fixed if fixed is not None else int(want))
    return tuple(shape)


def skeleton(graph: Graph) -> onnx.ModelProto:
    """A copy for shape inference: static input, big weights replaced by typed inputs."""
    src = graph.model
    model = onnx.ModelProto()
    model.ir_version = src.ir_version
    model.opset_import.extend(src.opset_import)
    model.graph.name = src.graph.name
    model.graph.node.extend(src.graph.node)
    types = {i.name: i.type.tensor_type.elem_type for i in src.graph.input}
    for input_name, shape in graph.input_shapes.items():
        model.graph.input.append(
            helper.make_tensor_value_info(input_name, types[input_name], shape)
        )
    for tensor in src.graph.initializer:
        if int(np.prod(tensor.dims, dtype=np.int64)) <= SMALL_CONSTANT:
            model.graph.initializer.append(graph.loaded(tensor))
        else:
            model.graph.input.append(
                helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims)
            )
    for out in src.graph.output:
        model.graph.output.append(helper.ValueInfoProto(name=out.name))
    model.functions.extend(src.functions)
    return model


def infer_shapes(graph: Graph) -> None:
    """Fill graph.shapes/dtypes from onnx inference, then onnxruntime for the gaps."""
    for tensor in graph.model.graph.initializer:
        graph.shapes[tensor.name] = tuple(tensor.dims)
        graph.dtypes[tensor.name] = tensor.data_type
    for name, tensor in graph.constants.items():
        graph.shapes[name] = tuple(tensor.dims)
        graph.dtypes[name] = tensor.data_type
    graph.shapes.update(graph.input_shapes)
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton(graph), data_prop=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError) as exc:
        note(f"{graph.name}: onnx shape inference failed ({exc}); measuring with onnxruntime")
        inferred = None
    if inferred is not None:
        g = inferred.graph
        for info in [*g.input, *g.value_info, *g.output]:
            read_value_info(info, graph)
    missing = [
        out
        for node in graph.model.graph.node
        for out in node.output
        if out and out not in graph.shapes
    ]
    if missing:
        note(
            f"{graph.name}: shape inference left {len(missing)} tensor shape(s) unknown; "
            "running onnxruntime once to measure them"
        )
        measure_shapes(graph, missing)


def read_value_info(info: onnx.ValueInfoProto, graph: Graph) -> None:
    """Record a fully static shape (and the element type) of one inferred tensor."""
    tensor_type = info.type.tensor_type
    if tensor_type.elem_type:
        graph.dtypes[info.name] = tensor_type.elem_type
    if not tensor_type.HasField("shape"):
        return
    dims = tensor_type.shape.dim
    if all(d.HasField("dim_value") for d in dims):
        graph.shapes[info.name] = tuple(int(d.dim_value) for d in dims)


def measure_shapes(graph: Graph, names: list[str]) -> None:
    """Run onnxruntime once with `names` as extra outputs and record their shapes."""
    import onnxruntime as ort

    from toolkit.runtime.session import LOAD_ERRORS

    model = graph.model
    if graph.folder is not None:
        load_external_data_for_model(model, str(graph.folder))
    before = len(model.graph.output)
    known = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.ValueInfoProto(name=n) for n in names if n not in known)
    try:
        data = model.SerializeToString()
    finally:
        del model.graph.output[before:]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        feed = {
            i.name: example_input(i.type, graph.input_shapes[i.name]) for i in session.get_inputs()
        }
        outputs = session.run(None, feed)
    except LOAD_ERRORS as exc:  # onnxruntime's own error types for graphs it cannot run
        raise CnnkitError(
            f"{graph.name}: onnxruntime could not run the model to measure shapes: "
            f"{str(exc).splitlines()[0]}"
        ) from None
    for meta, value in zip(session.get_outputs(), outputs, strict=True):
        array = np.asarray(value)
        graph.shapes[meta.name] = tuple(array.shape)
        graph.dtypes.setdefault(meta.name, helper.np_dtype_to_tensor_dtype(array.dtype))


def example_input(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    """A random input of the profiled shape and the session's input type."""
    dtype = {"tensor(float)": np.float32, "tensor(float16)": np.float16}.get(kind)
    if dtype is None:
        integer = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}.get(kind, np.uint8)
        return np.zeros(shape, dtype=integer)
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def fold_constants(graph: Graph) -> set[str]:
    """Outputs of nodes that compute constants (weight DequantizeLinear, shape arithmetic)."""
    folded: set[str] = set()
    for node in graph.model.graph.node:
        if node.op_type == "Constant" or node.op_type in NONDETERMINISTIC:
            continue
        inputs = [i for i in node.input if i]
        static = node.op_type in SHAPE_OPS and all(i in graph.shapes for i in inputs)
        if static or (inputs and all(i in graph.constants or i in folded for i in inputs)):
            folded.update(o for o in node.output if o)
    return folded
