"""KIT/kit.json: what a kit was built for and how `verify` judges it; the kit's file names.

One place spells the layout (DESIGN.md, "Edge kit"): wheels/, models/, samples/ with
expected.jsonl, MANIFEST, install.sh, and this file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit.errors import CnnkitError
from toolkit.safeio import write_json

FORMAT = "cnnkit-kit/1"
KIT_JSON = "kit.json"
WHEELS = "wheels"
MODELS = "models"
SAMPLES = "samples"
EXPECTED = "samples/expected.jsonl"
INSTALL_SH = "install.sh"
# verify: every top-k probability within this of the build machine's (same labels too).
# Float kernels differ by ~1e-6 between x86 and ARM; INT8 ones more.
TOLERANCE = 1e-3


@dataclass(frozen=True)
class KitInfo:
    """kit.json: the target, the versions the expected answers came from, the tolerance."""

    platform: str
    python: str
    glibc: str | None  # the newest glibc any wheel needs, "2.28"; None: pure Python only
    extras: list[str]
    models: list[str]  # relative paths, models/<name>.onnx
    cnnkit: str
    onnxruntime: str
    tolerance: float = TOLERANCE
    format: str = FORMAT

    def write(self, kit: Path) -> None:
        """Write kit.json into the kit."""
        write_json(kit / KIT_JSON, asdict(self))

    @classmethod
    def read(cls, kit: Path) -> KitInfo:
        """Read kit.json; one CnnkitError line when it is missing or not a kit's."""
        path = kit / KIT_JSON
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            return cls(**data)
        except FileNotFoundError:
            raise CnnkitError(f"{kit}: no {KIT_JSON}; not a kit from `cnnkit bundle`") from None
        except (ValueError, TypeError) as exc:
            raise CnnkitError(f"{path}: not a cnnkit kit description ({exc})") from None
