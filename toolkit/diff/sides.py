"""The two sides of a diff: an ONNX file on onnxruntime (torch-free) or a checkpoint on torch.

A side turns a batch into {output name: array} and, when asked for layers, into
{tensor name: array} for every intermediate tensor it can expose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.meta import ModelMeta
from toolkit.onnxfile import load_onnx, read_metadata
from toolkit.runtime.intermediate import IntermediateTensors


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
    plan: object = None  # the Use.DIFF plan: the input fed, its preprocessing
    tensors: IntermediateTensors | None = None  # every tensor, when opened with `layers`

    @classmethod
    def open(cls, spec: SideSpec, layers: bool = False) -> OnnxSide:
        """Open the file (and its augmented copy when `layers`)."""
        from toolkit.runtime.interpret import Use, plan_for
        from toolkit.runtime.session import open_session

        plan = plan_for(spec.source, Use.DIFF)
        proto = load_onnx(spec.source)
        side = cls(spec, proto, read_metadata(proto), is_quantized(proto), plan=plan)
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
        """The input images go into (diff takes single-input models)."""
        return self.plan.image_input

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every graph output for one batch."""
        names = self.handle.output_names
        return dict(zip(names, self.handle.session.run(names, {self.input_name: x}), strict=True))

    def _open_layers(self) -> None:
        self.tensors = IntermediateTensors.open(self.spec.source, self.spec.device)

    def run_layers(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """{tensor name: array [N, C, ...] or [N, -1]} for every exposed tensor of one batch."""
        return self.tensors.run(x)

    def graph_order(self) -> list[tuple[str, str]]:
        """(tensor name, producing op) for every node output, in the file's node order."""
        return [(out, node.op_type) for node in self.proto.graph.node for out in node.output]

    def close(self) -> None:
        """Remove the augmented copy."""
        if self.tensors is not None:
            self.tensors.close()


def quantized_source(source: str) -> bool:
    """True for an existing .onnx file holding QDQ nodes."""
    path = Path(source)
    if path.suffix.lower() != ".onnx" or not path.is_file():
        return False
    return is_quantized(load_onnx(path, load_external_data=False))
