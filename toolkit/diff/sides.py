"""The two sides of a diff: an ONNX file on onnxruntime (torch-free) or a checkpoint on torch.

A side turns a batch into {output name: array} and, when asked for layers, into
{tensor name: array} for every intermediate tensor it can expose.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.meta import ModelMeta
from toolkit.onnxfile import load_onnx, read_metadata

SAVED = "_ReshapedSavedOutput"  # the suffix qdq_loss_debug gives every exposed tensor


@dataclass(frozen=True)
class SideSpec:
    """What the user named on the command line for one side, and how to run it."""

    source: str
    device: str = "cpu"
    graph_optimization: str = "all"

    @property
    def is_onnx(self) -> bool:
        """True for an .onnx file, False for a run folder or .pt checkpoint."""
        return Path(self.source).suffix.lower() == ".onnx"


def is_quantized(proto) -> bool:
    """True when the graph holds QuantizeLinear nodes (a QDQ file)."""
    return any(node.op_type == "QuantizeLinear" for node in proto.graph.node)


@dataclass
class OnnxSide:
    """An ONNX file opened on onnxruntime; intermediate tensors via qdq_loss_debug."""

    spec: SideSpec
    proto: object = None
    meta: ModelMeta = field(default_factory=ModelMeta)
    quantized: bool = False
    handle: object = None
    layer_session: object = None
    channels: dict = field(default_factory=dict)  # tensor name -> size of axis 1, when static
    work: object = None

    @classmethod
    def open(cls, spec: SideSpec, layers: bool = False) -> OnnxSide:
        """Open the file (and its augmented copy when `layers`)."""
        from toolkit.runtime.session import open_session

        proto = load_onnx(spec.source)
        side = cls(spec, proto, read_metadata(proto), is_quantized(proto))
        side.handle = open_session(
            spec.source,
            device=spec.device,
            graph_optimization=spec.graph_optimization,
            quiet=True,
        )
        if layers:
            side._open_layers()
        return side

    @property
    def label(self) -> str:
        """How tables name this side."""
        extra = (
            "" if self.spec.graph_optimization == "all" else f", opt {self.spec.graph_optimization}"
        )
        return f"{self.spec.source} (onnxruntime {self.handle.device}{extra})"

    @property
    def input_name(self) -> str:
        """The graph's first input."""
        return self.handle.input_name

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every graph output for one batch."""
        names = self.handle.output_names
        return dict(zip(names, self.handle.session.run(names, {self.input_name: x}), strict=True))

    def _open_layers(self) -> None:
        from onnxruntime.quantization.qdq_loss_debug import (
            modify_model_output_intermediate_tensors,
        )

        from toolkit.export.status import captured_chatter
        from toolkit.runtime.session import open_session

        self.work = tempfile.TemporaryDirectory(prefix="cnnkit-diff-")
        augmented = Path(self.work.name) / "augmented.onnx"
        try:
            with captured_chatter():
                modify_model_output_intermediate_tensors(self.spec.source, augmented)
        except Exception as exc:  # onnxruntime's helper raises bare errors for odd graphs
            raise CnnkitError(f"{self.spec.source}: cannot expose its tensors: {exc}") from None
        # Unoptimised, as qdq_loss_debug.collect_activations runs it: ORT's fusions (Conv +
        # ReLU) would otherwise overwrite a tensor the Reshape copy still names.
        self.layer_session = open_session(
            augmented, device=self.spec.device, graph_optimization="disable", quiet=True
        )
        import onnx

        for info in onnx.load(str(augmented), load_external_data=False).graph.value_info:
            dims = info.type.tensor_type.shape.dim
            if len(dims) >= 2 and dims[1].dim_value:
                self.channels[info.name] = dims[1].dim_value

    def run_layers(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """{tensor name: array [N, C, ...] or [N, -1]} for every exposed tensor of one batch."""
        session = self.layer_session.session
        names = [o.name for o in session.get_outputs() if o.name.endswith(SAVED)]
        values = session.run(names, {self.input_name: x})
        out = {}
        for name, flat in zip(names, values, strict=True):
            tensor = name[: -len(SAVED)]
            out[tensor] = unflatten(flat, len(x), self.channels.get(tensor))
        return out

    def graph_order(self) -> list[tuple[str, str]]:
        """(tensor name, producing op) for every node output, in the file's node order."""
        return [(out, node.op_type) for node in self.proto.graph.node for out in node.output]

    def close(self) -> None:
        """Remove the augmented copy."""
        if self.work is not None:
            self.work.cleanup()


def unflatten(flat: np.ndarray, batch: int, channels: int | None) -> np.ndarray:
    """qdq_loss_debug's flat copy back to [N, C, rest] (or [N, rest] without a known C)."""
    if flat.size % batch:
        return flat.reshape(1, -1)  # not batched (a weight or a shape): compared whole
    per_sample = flat.reshape(batch, -1)
    if channels and per_sample.shape[1] % channels == 0:
        return per_sample.reshape(batch, channels, -1)
    return per_sample


def open_side(spec: SideSpec, layers: bool = False):
    """An OnnxSide for .onnx files, a TorchSide (needs torch) for run folders and .pt files."""
    path = Path(spec.source)
    if not path.exists():
        raise CnnkitError(f"{spec.source}: no such file or folder")
    if spec.is_onnx:
        return OnnxSide.open(spec, layers)
    if path.is_dir() or path.suffix == ".pt":
        from toolkit.extras import require_extra

        require_extra("train", f"running the checkpoint {spec.source} (diff .onnx files instead)")
        from toolkit.diff.torch_side import TorchSide

        return TorchSide.open(spec, layers)
    raise CnnkitError(f"{spec.source}: expected an .onnx file, a run folder or a .pt checkpoint")


def quantized_source(source: str) -> bool:
    """True for an existing .onnx file holding QDQ nodes."""
    path = Path(source)
    if path.suffix.lower() != ".onnx" or not path.is_file():
        return False
    return is_quantized(load_onnx(path, load_external_data=False))
