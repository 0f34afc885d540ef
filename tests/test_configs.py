"""Every shipped config validates and builds its env: a broken config never reaches a user."""

from pathlib import Path

import pytest

import envs  # noqa: F401
from agents.training import load_experiment

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").rglob("*.yaml"))


def test_there_are_configs():
    assert len(CONFIGS) >= 20


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_config_loads(path):
    config = load_experiment(path)
    assert config.name == path.stem
    assert config.train.steps or config.train.episodes
