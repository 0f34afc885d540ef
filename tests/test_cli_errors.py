"""Every user-facing script meets bad arguments with one line and exit code 2, never a traceback:
a missing file, a run directory that does not exist, a bad option value, an unknown env id, a
config whose env does not fit its agent. Each runs in this process through the script's
``main(argv)``, with nothing on standard input."""

from __future__ import annotations

import functools
import importlib.util
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIFF = str(ROOT / "configs" / "cliff" / "q_learning.yaml")
GO5 = str(ROOT / "configs" / "go5" / "alphazero.yaml")
MISSING_FILE = str(ROOT / "configs" / "no_such_config.yaml")
NO_RUN = str(ROOT / "runs" / "no_such_env" / "no_such_run")
SEARCH = ["--search", "agent.alpha=uniform(0.1,0.5)"]
# How stderr ends: ours ("error: ...") or argparse's ("<prog>: error: ..."), then perhaps the
# indented lines of a config error (one per key), and nothing else.
ERROR_LINE = re.compile(r"^(\S+( \S+)?: )?error: ")

CASES: dict[str, dict[str, list[str]]] = {
    "train": {
        "missing config": [MISSING_FILE],
        "missing run dir": ["--resume", NO_RUN],
        "bad option value": ["--threads", "zero", CLIFF],
        "unknown env id": [CLIFF, "env.id=rlcourse/NoSuchEnv-v0"],
        "env unfit for agent": [CLIFF, "env.id=CartPole-v1"],
    },
    "evaluate": {
        "missing checkpoint": [str(ROOT / "agents" / "pretrained" / "no_such.ckpt")],
        "missing run dir": [NO_RUN],
        "bad option value": [NO_RUN, "--episodes", "0"],
    },
    "render": {
        "missing run dir": [NO_RUN, "--no-window"],
        "bad option value": ["--env", "CartPole-v1", "--out", "video.txt", "--no-window"],
        "unknown env id": ["--env", "rlcourse/NoSuchEnv-v0", "--no-window"],
    },
    "play": {
        "missing sgf": ["go", "--text", "--load", str(ROOT / "no_such_game.sgf")],
        "missing checkpoint": ["go", "--text", "--agent", "alphazero", "--checkpoint", NO_RUN],
        "bad option value": ["go", "--text", "--size", "3"],
        "unknown env id": ["gridworld", "--env", "rlcourse/NoSuchEnv-v0"],
        "unknown mode": ["chess"],
    },
    "chat": {
        "missing run dir": ["--checkpoint", NO_RUN],
        "bad option value": ["--policy", "clever"],
        "agent of another env": ["--checkpoint", str(ROOT / "agents" / "pretrained" / "go5")],
    },
    "selfplay": {
        "missing config": [MISSING_FILE],
        "missing run dir": ["--resume", NO_RUN],
        "bad option value": [GO5, "--workers", "-1"],
        "env unfit for agent": [GO5, "env.id=CartPole-v1"],
        "not an alphazero config": [CLIFF],
    },
    "gtp": {
        "missing checkpoint": ["--agent", "alphazero", "--checkpoint", NO_RUN],
        "bad option value": ["--sims", "0"],
        "bad board size": ["--board-size", "3"],
    },
    "tune": {
        "missing config": [MISSING_FILE, *SEARCH],
        "bad option value": [CLIFF, "--samples", "0", *SEARCH],
        "unknown env id": [CLIFF, "env.id=rlcourse/NoSuchEnv-v0", *SEARCH],
        "env unfit for agent": [CLIFF, "env.id=CartPole-v1", *SEARCH],
    },
    "plot": {
        "missing run dir": [NO_RUN],
        "bad option value": [NO_RUN, "--band", "wide"],
    },
    "eval_driving": {
        "missing run dir": [NO_RUN],
        "bad option value": [NO_RUN, "--episodes", "0"],
        "agent of another env": [str(ROOT / "agents" / "pretrained" / "dialogue")],
    },
    "go_match": {
        "missing checkpoint": ["network", "random", "--checkpoint", NO_RUN],
        "bad option value": ["random", "random", "--games", "0"],
        "unknown player": ["random", "kata"],
        "no shipped network": ["network", "random", "--size", "9", "--komi", "7.5"],
    },
    "gtp_match": {
        "bad option value": ["--games", "0"],
        "missing engine": ["--engine1", str(ROOT / "no_such_engine"), "--games", "1"],
    },
    "ablate_alphazero": {
        "missing config": ["--config", MISSING_FILE, "--arm", "base"],
        "bad option value": ["--arm", "base", "--rounds", "0"],
        "unknown key": ["--arm", "base", "--arm", "typo", "mcts.rot=gumbel"],
        "not an alphazero config": ["--config", CLIFF, "--arm", "base"],
    },
    "profile_selfplay": {
        "missing config": [MISSING_FILE],
        "bad option value": [GO5, "--games", "0"],
        "unknown key": [GO5, "agent.mcts.rot=gumbel"],
        "not an alphazero config": [CLIFF],
        "missing agent file": [GO5, "--agent", str(ROOT / "agents" / "pretrained" / "no.ckpt")],
    },
    "pretrain": {
        "missing config": [MISSING_FILE],
        "env unfit for agent": [GO5, "env.id=CartPole-v1", "agent.pretrain.sgf=[games]"],
        "not an alphazero config": [CLIFF],
        "missing records": [GO5, f"agent.pretrain.sgf=[{ROOT / 'no_such_games'}]"],
    },
}


@functools.cache
def script_main(name: str) -> Callable[[list[str]], int]:
    spec = importlib.util.spec_from_file_location(f"cli_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.main


@pytest.mark.parametrize(
    ("name", "args"),
    [pytest.param(name, args, id=f"{name}: {case}") for name, cases in CASES.items()
     for case, args in cases.items()],
)  # fmt: skip
def test_bad_arguments_end_in_one_error_line_and_status_2(name, args, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    try:
        code = script_main(name)(args)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert code == 2, (code, err)
    unindented = [line for line in err.splitlines() if line and not line[0].isspace()]
    assert unindented and ERROR_LINE.match(unindented[-1]), err  # after it: indented lines
