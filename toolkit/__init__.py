"""cnnkit: train classic CNNs in PyTorch, export to ONNX, profile, serve and benchmark them.

Importing this package (or toolkit.profile / runtime / bench) never imports torch.
"""

from toolkit.errors import CnnkitError

__version__ = "0.1.0"
__all__ = ["CnnkitError", "__version__"]
