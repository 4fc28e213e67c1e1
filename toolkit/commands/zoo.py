"""`cnnkit models`: list the model zoo."""

from __future__ import annotations

import click

from toolkit.commands.common import json_option, print_json
from toolkit.extras import needs_extra
from toolkit.tables import table_console


@needs_extra("train")
@click.command("models")
@click.option("--task", type=click.Choice(["classification", "segmentation"]), help="Filter.")
@json_option
def models_cmd(task, as_json):
    """List the model zoo: name, task, default input, parameters.

    \b
    Examples:
      cnnkit models
      cnnkit models --task segmentation --json
    """
    from toolkit import models

    rows = models.catalog(task)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="cnnkit model zoo")
    for column in ("name", "task", "input", "params", "description"):
        table.add_column(column, justify="right" if column == "params" else "left")
    for row in rows:
        size = "x".join(str(v) for v in row["input_size"])
        table.add_row(row["name"], row["task"], size, f"{row['params']:,}", row["description"])
    table_console().print(table)
