"""Test-wide settings: headless pygame and matplotlib, and the env ids registered."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture
def runs_dir(tmp_path):
    """A throwaway runs/ folder for configs (`train.runs_dir=<it>`)."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
