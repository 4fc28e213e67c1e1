"""Without torch, the verbs that need it stop before any work with one line naming the extra."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_without_torch


@pytest.mark.parametrize(
    "args",
    [
        ["models"],
        ["train", "lenet5", "--epochs", "1"],
        ["export", "lenet5"],
        ["demo", "--quick"],
        ["compare", "--models", "lenet5"],
        ["profile", "lenet5"],
    ],
)
def test_torch_verbs_name_the_extra(args, tmp_path):
    """Exit 2, one `error:` line naming cnnkit[train], no traceback, nothing written."""
    result = run_without_torch(
        f"""
        from toolkit.cli import cli
        cli({args!r}, prog_name="cnnkit")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "pip install 'cnnkit[train]'" in lines[0] and "torch" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_help_marks_the_verbs_that_need_torch(tmp_path):
    """`cnnkit --help` works without torch and tags [train] verbs."""
    result = run_without_torch(
        """
        from toolkit.cli import cli
        cli(["--help"], prog_name="cnnkit")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:")[1].splitlines()
    tagged = {line.split()[0] for line in commands if "[train]" in line}
    assert tagged == {"models", "train", "export", "compare", "demo"}
