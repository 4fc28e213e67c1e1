"""Export: torch -> ONNX with parity checks and metadata; INT8 / FP16 variants.

`export_onnx` needs torch; `quantize_onnx` works from the .onnx file alone. Names load
lazily so that importing the quantizer never pulls in torch. Options travel as typed
objects (toolkit.export.options); keywords matching their fields work too.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "export_onnx": "toolkit.export.onnx_export",
    "export_module": "toolkit.export.onnx_export",
    "ExportReport": "toolkit.export.onnx_export",
    "export_edge": "toolkit.export.edge",
    "EdgeReport": "toolkit.export.edge",
    "EdgeOptions": "toolkit.export.options",
    "quantize_onnx": "toolkit.export.quantize",
    "QuantizeReport": "toolkit.export.quantize",
    "ExportOptions": "toolkit.export.options",
    "ModelOverrides": "toolkit.export.options",
    "QuantizeOptions": "toolkit.export.options",
    "AutoOptions": "toolkit.export.options",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'toolkit.export' has no attribute {name!r}")
