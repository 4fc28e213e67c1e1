"""The cnnkit model zoo: `build(name, **kwargs)`, `names()`, `info(name)`.

Importing this package registers every model; each family lives in its own module.
"""

# Registration order is the zoo's order in `cnnkit models`: the history of the field.
# isort: off
from toolkit.models import lenet  # noqa: F401
from toolkit.models import alexnet  # noqa: F401
from toolkit.models import vgg  # noqa: F401
from toolkit.models import googlenet  # noqa: F401
from toolkit.models import resnet  # noqa: F401
from toolkit.models import fcn  # noqa: F401

# isort: on
from toolkit.models.check import check_input
from toolkit.models.layers import ACTIVATIONS, activation
from toolkit.models.registry import (
    ModelInfo,
    build,
    catalog,
    default_input_size,
    info,
    names,
    parameter_count,
    register,
    registered,
    unregister,
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
    "registered",
    "unregister",
]
