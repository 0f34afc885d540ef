"""Go players built from command-line options, shared by `scripts/gtp.py`, `scripts/play.py`
and `scripts/go_match.py` (imported as ``scripts.go_players``: the repository root is on the
path of an editable install).

A player is a policy ``policy(state) -> move | "resign"``. `PLAYERS` maps an ``--agent`` name
to its factory: ``random`` plays uniformly random legal moves that do not fill its own
single-point eyes; ``mcts`` is plain MCTS with one random rollout per leaf (``--sims``, default
1000); ``alphazero`` searches with a trained network (``--checkpoint``: an agent file, a
checkpoint or a run directory; without it the shipped network for the board being played,
`PRETRAINED`: 5x5 and 7x7; ``--sims`` default: the config's) and resigns when its search
values fall below the config's resignation threshold. A ``--checkpoint`` is loaded by the
player that reads it, and refused by one that has none.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from envs.go.gtp import Policy
    from envs.go.rules import GoState

MCTS_SIMULATIONS = 1000  # plain MCTS's default --sims

# envs is imported inside the factories: add_player_arguments serves --help without it.
PlayerFactory = Callable[[argparse.Namespace], "Policy"]


def random_player(opts: argparse.Namespace) -> Policy:
    from envs.go.gtp import RandomPolicy

    if opts.checkpoint is not None:
        raise ValueError(
            f"--checkpoint {opts.checkpoint}: agent 'random' has no network to load "
            "(agent 'alphazero' loads checkpoints)"
        )
    if opts.sims is not None:
        raise ValueError("--sims: agent 'random' does no search")
    return RandomPolicy(opts.seed)


def mcts_player(opts: argparse.Namespace) -> Policy:
    from agents.alphazero.config import MCTSConfig
    from agents.alphazero.evaluators import RolloutEvaluator
    from agents.alphazero.mcts import MCTS
    from envs.go.game import GoGame

    if opts.checkpoint is not None:
        raise ValueError(
            f"--checkpoint {opts.checkpoint}: agent 'mcts' searches with random rollouts and "
            "loads no network (agent 'alphazero' does)"
        )
    config = MCTSConfig(simulations=opts.sims or MCTS_SIMULATIONS, leaves_per_call=1)
    rng = np.random.default_rng(opts.seed)

    def policy(state: GoState) -> int:
        game = GoGame(state.board_size, state.komi, history=0)
        evaluator = RolloutEvaluator(game, seed=int(rng.integers(2**31)))
        search = MCTS(game, evaluator, config, rng, state)
        search.search()
        return search.select_action(0.0)

    return policy


def alphazero_player(opts: argparse.Namespace) -> Policy:
    if opts.checkpoint is not None:
        return network_policy(load_alphazero(opts.checkpoint, opts.seed or 0), opts)
    policies: dict[int, Policy] = {}  # board size -> the shipped network's policy, loaded once

    def policy(state: GoState) -> int | str:
        size = state.board_size
        if size not in policies:
            if size not in PRETRAINED:
                shipped = ", ".join(f"{n}x{n}" for n in sorted(PRETRAINED))
                raise ValueError(
                    f"no shipped network plays {size}x{size} (shipped: {shipped}); "
                    "give --checkpoint"
                )
            policies[size] = network_policy(
                load_alphazero(str(PRETRAINED[size]), opts.seed or 0), opts
            )
        return policies[size](state)

    return policy


def shipped_player(opts: argparse.Namespace) -> Policy:
    from envs.go.gtp import RandomPolicy

    if opts.checkpoint is not None:
        raise ValueError(
            f"--checkpoint {opts.checkpoint}: agent 'shipped' plays the networks of "
            "agents/pretrained (agent 'alphazero' loads checkpoints)"
        )
    network, fallback = alphazero_player(opts), RandomPolicy(opts.seed)
    told: set[int] = set()  # board sizes already named on stderr

    def policy(state: GoState) -> int | str:
        size = state.board_size
        if size in PRETRAINED:
            return network(state)
        if size not in told:
            told.add(size)
            shipped = ", ".join(f"{n}x{n}" for n in sorted(PRETRAINED))
            print(
                f"no shipped network plays {size}x{size} (shipped: {shipped}): playing random "
                "moves there (--agent alphazero --checkpoint FILE plays a network of your own)",
                file=sys.stderr,
                flush=True,
            )
        return fallback(state)

    return policy


def network_policy(agent: Any, opts: argparse.Namespace) -> Policy:
    """The search policy of a loaded AlphaZero agent (``opts.sims`` and ``opts.seed``)."""
    from agents.alphazero.evaluators import NeuralEvaluator
    from agents.alphazero.gumbel import make_search
    from agents.alphazero.selfplay import wants_to_resign

    config, game = agent.config, agent.game
    if config.game.name != "go":
        raise ValueError(f"--checkpoint {opts.checkpoint} plays {config.game.name}, not Go")
    mcts = config.mcts if opts.sims is None else config.mcts.model_copy(
        update={"simulations": opts.sims})  # fmt: skip
    evaluator = NeuralEvaluator(game, agent.net)
    threshold = config.selfplay.resign_threshold
    rng = np.random.default_rng(opts.seed)

    def policy(state: GoState) -> int | str:
        if state.board_size != config.game.board_size:
            raise ValueError(
                f"the network plays {config.game.board_size}x{config.game.board_size}, "
                f"the board is {state.board_size}x{state.board_size}"
            )
        search = make_search(game, evaluator, mcts, rng, state)
        search.search()
        if threshold is not None and wants_to_resign(search, threshold):
            return "resign"
        return search.select_action(0.0)

    return policy


PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "agents" / "pretrained"
#: The shipped networks by board size (5x5 trained at komi 7.5, 7x7 at komi 9), played when no
#: --checkpoint is given.
PRETRAINED = {
    5: PRETRAINED_DIR / "go5" / "alphazero.ckpt",
    7: PRETRAINED_DIR / "go7" / "alphazero.ckpt",
}


def load_alphazero(path: str, seed: int = 0) -> Any:
    """An AlphaZero agent from an agent file (weights with their config), a checkpoint or a
    run directory."""
    from agents.alphazero.agent import AlphaZeroAgent
    from rlcourse.config import ConfigError

    target = Path(path)
    if not target.exists():
        raise ValueError(f"--checkpoint {path}: no such file or directory")
    if target.is_file():  # read as data: a file holding code raises rlcourse.files.FileError
        try:
            return AlphaZeroAgent.from_file(target, seed)
        except ConfigError:
            raise  # an agent file whose stored config is invalid
        except ValueError:
            pass  # a file of a run directory: its config.yaml says how to build the agent
    from agents.training import load_agent

    agent, config = load_agent(target)
    if not isinstance(agent, AlphaZeroAgent):
        kind = config.agent.name if config.agent is not None else config.backend.name
        raise ValueError(f"--checkpoint {path} holds a {kind} agent, not alphazero")
    return agent


PLAYERS: dict[str, PlayerFactory] = {
    "random": random_player,
    "mcts": mcts_player,
    "alphazero": alphazero_player,
    "shipped": shipped_player,
}


def add_player_arguments(parser: argparse.ArgumentParser, default_agent: str = "random") -> None:
    """The options that choose and configure a player (``--agent`` defaults to
    ``default_agent``)."""
    parser.add_argument("--agent", choices=sorted(PLAYERS), default=default_agent)
    parser.add_argument(
        "--checkpoint", metavar="FILE|RUN_DIR", help="network weights for the agent"
    )
    parser.add_argument("--sims", type=int, metavar="N", help="search simulations per move")
    parser.add_argument("--seed", type=int, default=None, help="seed of the agent's randomness")


def make_player(opts: argparse.Namespace) -> Policy:
    """The player ``opts.agent`` built from the options; ValueError names what does not fit."""
    if opts.sims is not None and opts.sims < 1:
        raise ValueError(f"--sims must be at least 1, got {opts.sims}")
    return PLAYERS[opts.agent](opts)
