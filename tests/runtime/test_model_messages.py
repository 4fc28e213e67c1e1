"""A model argument that is not an ONNX file gets the message that names the fix."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from tests.helpers.cli import assert_one_line_error, invoke, run_without_torch


@pytest.fixture
def place(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    (tmp_path / "best.pt").write_bytes(b"PK\x03\x04 a torch.save zip")
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    Image.new("L", (32, 32)).save(tmp_path / "images" / "a.png")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("infer", "run", "images", "-o", "out"), ("run: is a run folder without model.onnx",
                                                   "export it first: cnnkit export run")),
        (("infer", "best.pt", "images", "-o", "out"), ("best.pt: is a PyTorch checkpoint",
                                                       "cnnkit export best.pt")),
        (("inspect", "run"), ("export it first",)),
        (("serve", "run"), ("run: is a run folder without model.onnx",)),
        (("train", "lenet5", "--data", "photos/"), ("folder:photos/", "voc:photos/")),
    ],
)  # fmt: skip
def test_the_message_names_the_fix(place, args, needles):
    result = invoke(*args, cwd=place)
    assert_one_line_error(result, *needles)
    assert not (place / "out").exists()


def test_a_run_folder_with_its_model_points_at_the_file(place, lenet_onnx):
    shutil.copy(lenet_onnx, place / "run" / "model.onnx")
    result = invoke("infer", "run", "images", "-o", "out", cwd=place)
    assert_one_line_error(result, "run: is a run folder; pass its model file: run/model.onnx")


def test_plot_without_matplotlib_names_the_plot_extra(tmp_path):
    result = run_without_torch(
        """
        import sys
        class NoMatplotlib:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "matplotlib":
                    raise ImportError("blocked")
        sys.meta_path.insert(0, NoMatplotlib())
        from toolkit.extras import require_extra
        require_extra("plot", "--plot")
        """,
        cwd=tmp_path,
    )
    assert "pip install 'cnnkit[plot]'" in result.stderr and "[train]" not in result.stderr
