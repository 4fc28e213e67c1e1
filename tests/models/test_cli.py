"""`cnnkit models`: --json through the real console script, the table in-process."""

from __future__ import annotations

import json

from tests.helpers.cli import invoke, run_cli
from toolkit import models


def test_models_json_lists_the_whole_zoo():
    result = run_cli("models", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert list(rows) == models.names()
    assert rows["resnet50"]["params"] == 25_557_032
    assert rows["vgg16"]["params"] == 138_357_544
    assert rows["fcn8s"]["task"] == "segmentation"
    assert rows["fcn8s"]["input_size"] == [3, 64, 64]
    assert all(row["description"] for row in rows.values())


def test_models_table_and_task_filter():
    table = invoke("models", "--task", "segmentation")
    assert table.returncode == 0, table.stderr
    for name in ("fcn32s", "fcn16s", "fcn8s"):
        assert name in table.stdout
    assert "resnet18" not in table.stdout
