"""The cnnkit model zoo: `build(name, **kwargs)`, `names()`, `info(name)`.

Importing this package registers every model; each family lives in its own module.
"""

# Registration order is the zoo's order in `cnnkit models`: the history of the field.
# isort: off
from models import lenet  # noqa: F401
from models import alexnet  # noqa: F401
from models import vgg  # noqa: F401
from models import googlenet  # noqa: F401
from models import resnet  # noqa: F401
from models import fcn  # noqa: F401

# isort: on
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
