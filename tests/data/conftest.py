"""Tiny image folders written for real: class folders and VOC-style segmentation sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.data import write_class_folder, write_voc


@pytest.fixture
def class_folder(tmp_path) -> Path:
    """A two-class ImageFolder with one unreadable file."""
    return write_class_folder(tmp_path / "pets")


@pytest.fixture
def voc_folder(tmp_path) -> Path:
    """A ten-image VOC-style set with split lists."""
    return write_voc(tmp_path / "voc")
