"""Every intermediate tensor of an ONNX file on onnxruntime, through qdq_loss_debug (torch-free).

onnxruntime's helper writes an augmented copy whose graph outputs include a flat copy of
each tensor; the copy lives in a temporary folder until `close`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toolkit.chatter import captured_chatter
from toolkit.errors import CnnkitError

if TYPE_CHECKING:
    from toolkit.runtime.session import SessionHandle

SAVED = "_ReshapedSavedOutput"  # the suffix qdq_loss_debug gives every exposed tensor


@dataclass
class IntermediateTensors:
    """An augmented copy of an ONNX file, opened unoptimised, that returns every tensor."""

    session: SessionHandle
    work: tempfile.TemporaryDirectory
    channels: dict = field(default_factory=dict)  # tensor name -> size of axis 1, when static

    @classmethod
    def open(cls, source: str | Path, device: str = "cpu") -> IntermediateTensors:
        """Write the augmented copy of `source` and open it on `device`."""
        from onnxruntime.quantization.qdq_loss_debug import (
            modify_model_output_intermediate_tensors,
        )

        from toolkit.runtime.session import open_session

        work = tempfile.TemporaryDirectory(prefix="cnnkit-diff-")
        augmented = Path(work.name) / "augmented.onnx"
        try:
            with captured_chatter():
                modify_model_output_intermediate_tensors(str(source), augmented)
        except Exception as exc:  # onnxruntime's helper raises bare errors for odd graphs
            work.cleanup()
            raise CnnkitError(f"{source}: cannot expose its tensors: {exc}") from None
        # Unoptimised, as qdq_loss_debug.collect_activations runs it: ORT's fusions (Conv +
        # ReLU) would otherwise overwrite a tensor the Reshape copy still names.
        handle = open_session(augmented, device=device, graph_optimization="disable", quiet=True)
        tensors = cls(handle, work)
        import onnx

        for info in onnx.load(str(augmented), load_external_data=False).graph.value_info:
            dims = info.type.tensor_type.shape.dim
            if len(dims) >= 2 and dims[1].dim_value:
                tensors.channels[info.name] = dims[1].dim_value
        return tensors

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """{tensor name: array [N, C, ...] or [N, -1]} for every exposed tensor of one batch."""
        session = self.session.session
        names = [o.name for o in session.get_outputs() if o.name.endswith(SAVED)]
        values = session.run(names, {self.session.input_name: x})
        out = {}
        for name, flat in zip(names, values, strict=True):
            tensor = name[: -len(SAVED)]
            out[tensor] = unflatten(flat, len(x), self.channels.get(tensor))
        return out

    def close(self) -> None:
        """Remove the augmented copy."""
        self.work.cleanup()


def unflatten(flat: np.ndarray, batch: int, channels: int | None) -> np.ndarray:
    """qdq_loss_debug's flat copy back to [N, C, rest] (or [N, rest] without a known C)."""
    if flat.size % batch:
        return flat.reshape(1, -1)  # not batched (a weight or a shape): compared whole
    per_sample = flat.reshape(batch, -1)
    if channels and per_sample.shape[1] % channels == 0:
        return per_sample.reshape(batch, channels, -1)
    return per_sample
