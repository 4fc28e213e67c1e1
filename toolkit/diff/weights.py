"""Weight SQNR per Conv of a QDQ file: float weights vs their dequantised int8 copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.runtime.tensorstats import finite, sqnr


def conv_weight_sqnr(float_path: Path, qdq_path: Path, float_proto) -> list[dict]:
    """[{name, sqnr_db, worst_channel_sqnr_db, channels}] for every quantized Conv weight."""
    from onnxruntime.quantization.qdq_loss_debug import (
        compute_weight_error,
        create_weight_matching,
    )

    from toolkit.export.status import captured_chatter

    conv_weights = {
        node.input[1]: node.name for node in float_proto.graph.node if node.op_type == "Conv"
    }
    with captured_chatter():
        matched = create_weight_matching(str(float_path), str(qdq_path))
    whole = compute_weight_error(matched)  # onnxruntime's SQNR, float weights as the signal
    rows = []
    for name, pair in matched.items():
        if name not in conv_weights:
            continue
        w = np.asarray(pair["float"], np.float64)
        q = np.asarray(pair["dequantized"], np.float64).reshape(w.shape)
        axes = tuple(range(1, w.ndim))
        per_channel = [
            sqnr(s, n) for s, n in zip((w * w).sum(axes), ((w - q) ** 2).sum(axes), strict=True)
        ]
        rows.append(
            {
                "name": name,
                "node": conv_weights[name],
                "channels": int(w.shape[0]),
                "sqnr_db": finite(whole[name]),
                "worst_channel_sqnr_db": finite(min(per_channel)),
            }
        )
    return rows
