"""INPUTS: files, folders, globs, list files and .npy stacks, each once, in order."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.runtime import write_pngs
from toolkit.errors import CnnkitError
from toolkit.runtime.inputs import expand_inputs


def test_folders_are_walked_recursively_in_sorted_order(tmp_path):
    write_pngs(tmp_path / "b", 2)
    write_pngs(tmp_path / "a" / "deep", 1)
    (tmp_path / "notes.md").write_text("not an image")
    keys = [item.key for item in expand_inputs([tmp_path])]
    assert keys == [
        str(tmp_path / "a" / "deep" / "img000.png"),
        str(tmp_path / "b" / "img000.png"),
        str(tmp_path / "b" / "img001.png"),
    ]


def test_globs_list_files_and_duplicates(tmp_path, capsys):
    paths = write_pngs(tmp_path / "imgs", 3)
    listing = tmp_path / "list.txt"
    listing.write_text("# my inputs\nimgs/img002.png\n\nimgs/missing.png\n")
    items = expand_inputs([str(tmp_path / "imgs" / "*.png"), listing])
    assert [item.path for item in items] == [*paths, tmp_path / "imgs" / "missing.png"]
    assert "named more than once" in capsys.readouterr().err


def test_npy_stacks_become_one_item_per_array(tmp_path):
    np.save(tmp_path / "pixels.npy", np.zeros((3, 8, 8), dtype=np.uint8))
    np.save(tmp_path / "one.npy", np.zeros((8, 8, 3), dtype=np.uint8))
    np.save(tmp_path / "tensors.npy", np.zeros((2, 1, 32, 32), dtype=np.float32))
    keys = [item.key for item in expand_inputs([tmp_path])]
    assert keys == [
        str(tmp_path / "one.npy"),
        *[f"{tmp_path / 'pixels.npy'}#{i}" for i in range(3)],
        *[f"{tmp_path / 'tensors.npy'}#{i}" for i in range(2)],
    ]


def test_missing_inputs_are_user_errors(tmp_path):
    with pytest.raises(CnnkitError, match="no such file"):
        expand_inputs([tmp_path / "nope.png"])
    with pytest.raises(CnnkitError, match="matches nothing"):
        expand_inputs([str(tmp_path / "*.png")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CnnkitError, match="no inputs found"):
        expand_inputs([tmp_path / "empty"])
