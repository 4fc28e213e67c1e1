"""`cnnkit serve`: ONNX models over HTTP with a dynamic batcher (uvicorn + Starlette, no torch).

from toolkit.serve import ServeConfig, model_names, serve
serve(ServeConfig(models=model_names(["model.onnx"]), port=8000))
"""

from toolkit.errors import CnnkitError
from toolkit.serve.config import (
    BatchSettings,
    ModelSource,
    RepositorySettings,
    ServeConfig,
    model_names,
)


def serve(config: ServeConfig, announce=print):
    """Serve until SIGTERM/SIGINT (see toolkit.serve.server.serve); imported lazily."""
    try:
        from toolkit.serve.server import serve as run
    except ImportError as exc:
        raise CnnkitError(f"cnnkit serve needs {exc.name}: pip install 'cnnkit[serve]'") from None

    return run(config, announce)


__all__ = [
    "BatchSettings",
    "ModelSource",
    "RepositorySettings",
    "ServeConfig",
    "model_names",
    "serve",
]
