"""The cnnkit model zoo: `build(name, **kwargs)`, `names()`, `info(name)`.

Importing this package registers every model; each family lives in its own module.
"""

from models import alexnet, fcn, googlenet, lenet, resnet, vgg  # noqa: F401  (registers)
from models.check import check_input
from models.layers import ACTIVATIONS, activation
from models.registry import (
    ModelInfo,
    build,
    catalog,
    default_input_size,
    info,
    names,
    parameter_count,
    register,
)

__all__ = [
    "ACTIVATIONS",
    "ModelInfo",
    "activation",
    "build",
    "catalog",
    "check_input",
    "default_input_size",
    "info",
    "names",
    "parameter_count",
    "register",
]
