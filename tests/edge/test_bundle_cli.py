"""`cnnkit bundle` refuses what no kit can serve in one line, before any download."""

from __future__ import annotations

import pytest

from tests.helpers.cli import assert_one_line_error, invoke
from tests.helpers.edge import colour_classifier


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--platform", "linux-armv7l"], "no armv7"),
        (["--platform", "linux-i686"], "32-bit x86"),
        (["--platform", "macos-arm64"], "--platform 'macos-arm64'"),
        (["--python", "3.10"], "--python '3.10'"),
        (["--with", "train"], "--with"),
    ],
)
def test_bad_targets_one_line_exit_2(tmp_path, flags, needle):
    model = colour_classifier(tmp_path / "mix.onnx")
    result = invoke("bundle", model, *flags, "-o", tmp_path / "kit", cwd=tmp_path)
    assert_one_line_error(result, needle)
    assert not (tmp_path / "kit").exists() and sorted(tmp_path.iterdir()) == [model]


def test_bad_models_and_folders(tmp_path):
    model = colour_classifier(tmp_path / "mix.onnx")
    (tmp_path / "weights.pt").write_bytes(b"")
    result = invoke("bundle", tmp_path / "weights.pt", "-o", tmp_path / "kit", cwd=tmp_path)
    assert_one_line_error(result, "weights.pt: not an .onnx file")
    (tmp_path / "used").mkdir()
    (tmp_path / "used/file").write_text("kept")
    result = invoke("bundle", model, "-o", tmp_path / "used", cwd=tmp_path)
    assert_one_line_error(result, "already exists and is not empty")
    assert (tmp_path / "used/file").read_text() == "kept"
