"""Graph simplification with onnxslim (constant folding, fusion, dead-node removal)."""

from __future__ import annotations

from toolkit.errors import CnnkitError
from toolkit.export.status import captured_chatter


def node_count(proto) -> int:
    """Nodes in the main graph (subgraphs of If/Loop not counted)."""
    return len(proto.graph.node)


def simplify(proto):
    """The onnxslim-simplified model; its own failure is an error, never a silent no-op."""
    import onnxslim

    try:
        with captured_chatter():
            slim = onnxslim.slim(proto)
    except Exception as exc:  # onnxslim raises assorted types; the user needs one line
        raise CnnkitError(f"--simplify: onnxslim failed ({type(exc).__name__}: {exc})") from None
    if slim is None:
        raise CnnkitError("--simplify: onnxslim returned no model")
    return slim
