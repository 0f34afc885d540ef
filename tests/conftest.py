"""Test-wide settings: headless pygame and matplotlib, one torch thread."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import torch

# One thread: results and timings do not depend on the core count, and the two cores of a CI
# machine are not oversubscribed by torch's intra-op pool.
torch.set_num_threads(1)


@pytest.fixture
def runs_dir(tmp_path):
    """A throwaway runs/ folder for configs (`train.runs_dir=<it>`)."""
    path = tmp_path / "runs"
    path.mkdir()
    return path
