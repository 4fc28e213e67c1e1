"""Shared fixtures: a CLI runner that runs the installed `cnnkit` console script."""

from __future__ import annotations

import pytest

from tests.helpers.cli import run_cli


@pytest.fixture
def cli():
    """The CLI runner as a fixture."""
    return run_cli
