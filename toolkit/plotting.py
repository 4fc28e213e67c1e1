"""Figure files with matplotlib's Agg backend: the path check, pyplot, and save.

Shared by bench, diff and serve plots; matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from toolkit.errors import CnnkitError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def check_plot_path(path: str | Path) -> Path:
    """A writable figure file name (.png, .svg, .pdf); CnnkitError otherwise."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CnnkitError(f"--plot {path}: expected a .png, .svg or .pdf file name")
    if path.is_dir():
        raise CnnkitError(f"--plot {path}: is a folder, expected a file name")
    return path


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure: Figure, path: Path) -> Path:
    """Lay out, write and close `figure`; its path."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
