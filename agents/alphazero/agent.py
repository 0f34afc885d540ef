"""`AlphaZeroAgent`: the agent contract around the self-play system.

``learn`` drives a :class:`agents.alphazero.system.SelfPlaySystem` through a `Run`: one env
step of the run is one self-play position, one episode one self-play game. With
``agent.pretrain`` a new run first fits the network to SGF records (see
:mod:`agents.alphazero.pretrain`). Checkpoints hold the network, optimizer, replay window, game
ids, arena state, counters and RNG states; a resumed run carries on from the last one. With
``distributed.workers > 0`` the parts run as Ray actors on the running cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import ValidationError

from agents.alphazero.arena import ArenaReport, version_name
from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.evaluators import NeuralEvaluator
from agents.alphazero.games import make_game
from agents.alphazero.gumbel import make_search
from agents.alphazero.pretrain import pretrain
from agents.alphazero.system import RoundReport, SelfPlaySystem
from rlcourse.config import ConfigError
from rlcourse.files import load_data, save_data
from rlcourse.runs import Run
from rlcourse.vector import split_observation

SGF_DIR = "sgf"


class AlphaZeroAgent:
    Config: ClassVar[type[AlphaZeroConfig]] = AlphaZeroConfig

    def __init__(
        self,
        config: AlphaZeroConfig,
        observation_space: Any = None,
        action_space: Any = None,
        seed: int = 0,
    ) -> None:
        self.config, self.seed = config, seed
        self.game = make_game(config.game)
        _check_spaces(self.game, observation_space, action_space)
        self.system = SelfPlaySystem(config, seed, workers=0)
        self.rng = np.random.default_rng([seed, 2])

    @property
    def net(self) -> torch.nn.Module:
        """The network being trained (the local learner's)."""
        return self.system.learner.target.net

    # ------------------------------------------------------------------ acting

    def act(
        self, obs: Any, info: Mapping[str, Any] | None = None, deterministic: bool = False
    ) -> int:
        """A game state (GoState, TicTacToeState): a search of ``mcts.simulations`` (the
        ``mcts.root`` search), its move (``deterministic``: the most visited, or the Gumbel
        search's last survivor) or one drawn from its policy. An env observation (planes,
        or a dict with ``observation`` and ``action_mask``): the network's most probable
        (or a sampled) legal move, without search: the observation does not hold the state."""
        if isinstance(obs, (dict, np.ndarray)):
            return self._network_move(obs, info, deterministic)
        mcts = self.config.mcts
        evaluator = NeuralEvaluator(self.game, self.net, score_utility=mcts.score_utility,
                                    score_scale=mcts.score_scale)  # fmt: skip
        search = make_search(self.game, evaluator, mcts, self.rng, obs)
        search.search()
        return search.select_action(0.0 if deterministic else 1.0)

    def _network_move(self, obs: Any, info: Mapping[str, Any] | None, greedy: bool) -> int:
        x, mask = split_observation(obs, info)
        planes = np.asarray(x, np.float32)
        legal = np.ones(self.game.num_actions, bool) if mask is None else mask
        with torch.inference_mode():
            net = self.net.eval()
            logits, _ = net(torch.from_numpy(planes[None]).to(next(net.parameters()).device))
        logits = logits[0].cpu().numpy().astype(np.float64)
        logits[~legal] = -np.inf
        if greedy:
            return int(np.argmax(logits))
        probs = np.exp(logits - logits.max())
        return int(self.rng.choice(len(probs), p=probs / probs.sum()))

    # ------------------------------------------------------------------ learning

    def learn(self, env_factory: Any, run: Run) -> None:
        if self.config.pretrain is not None and not run.resumed:
            print(pretrain(self.net, self.game, self.config.pretrain, self.seed, run).summary())
        workers = self.config.distributed.workers
        system = self.system if workers == 0 else SelfPlaySystem(self.config, self.seed)
        env = env_factory()
        try:
            if workers:
                system.load_state_dict(self.system.state_dict())
            run.begin(system, env)
            drive(system, run)
            if workers:
                self.system.load_state_dict(system.state_dict())
        finally:
            if workers:
                system.shutdown()
            env.close()

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """The network's weights and the agent config (enough to act; see :meth:`from_file`),
        written atomically as data."""
        save_data(path, {"config": self.config.model_dump(mode="json"),
                         "net": self.net.state_dict()})  # fmt: skip

    def load(self, path: str | Path) -> None:
        """The weights of an agent file (read as data: a file holding code raises
        `rlcourse.files.UnsafeFileError`)."""
        _load_net(self.net, _agent_file(path)["net"], path)

    @classmethod
    def from_file(cls, path: str | Path, seed: int = 0) -> AlphaZeroAgent:
        """An agent built from the config :meth:`save` stored with the weights; ValueError
        naming the file when it holds no config and weights, `ConfigError` when its config does
        not validate, `rlcourse.files.FileError` when it is not data."""
        saved = _agent_file(path)
        try:
            config = AlphaZeroConfig.model_validate(saved["config"])
        except ValidationError as exc:  # validated like a YAML config: every bad key named
            problems = [f"{'.'.join(map(str, error['loc'])) or '(top level)'}: {error['msg']}, "
                        f"got {error.get('input')!r}" for error in exc.errors()]  # fmt: skip
            raise ConfigError(f"{path} (the agent config stored in it)", problems) from None
        if config.distributed.device == "cuda" and not torch.cuda.is_available():
            # Trained on a GPU, played here: the network runs on the CPU.
            distributed = config.distributed.model_copy(update={"device": "cpu"})
            config = config.model_copy(update={"distributed": distributed})
        agent = cls(config, seed=seed)
        _load_net(agent.net, saved["net"], path)
        return agent

    def state_dict(self) -> dict[str, Any]:
        return self.system.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.system.load_state_dict(state)


def drive(system: SelfPlaySystem, run: Run) -> None:
    """Run rounds until the run's budget is spent, logging each; then stop self-play and
    count the games that finished meanwhile (none is left in the replay uncounted); a final
    checkpoint."""
    while not run.finished:
        log_round(run, system.round())
    log_round(run, system.stop())
    for report in system.finish_arena():
        log_arena(run, report)
    run.checkpoint()


def log_round(run: Run, report: RoundReport) -> None:
    """Count the round's games and positions (a checkpoint may follow), then log its scalars
    at the new step."""
    for record in report.records:
        run.record_episode(record.returns[0], len(record.moves))
    run.advance(sum(len(r.moves) for r in report.records))
    run.log(report.metrics)
    for arena in report.arena:
        log_arena(run, arena)


def log_arena(run: Run, report: ArenaReport) -> None:
    """Scores with 95% intervals per opponent (and as first mover), the Elo of the network and
    of the fixed opponents (random is 0), and the sample games as SGF."""
    scalars = {"arena/promoted": float(report.promoted), "arena/version": float(report.version)}
    for opponent, result in report.results.items():
        low, high = result.interval()
        scalars[f"arena/{opponent}/score"] = result.score
        scalars[f"arena/{opponent}/ci95_low"] = low
        scalars[f"arena/{opponent}/ci95_high"] = high
        scalars[f"arena/{opponent}/score_as_first"] = report.as_first[opponent].score
    if version_name(report.version) in report.ratings:  # not before its first match
        scalars["elo/network"] = report.ratings[version_name(report.version)]
    scalars |= {f"elo/{name}": report.ratings[name] for name in report.results if name != "best"}
    run.log(scalars)
    folder = run.dir / SGF_DIR
    for name, text in report.sgf.items():
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def _check_spaces(game: Any, observation_space: Any, action_space: Any) -> None:
    """Refuse an env whose spaces do not fit the configured game."""
    n = getattr(action_space, "n", None)
    if n is not None and int(n) != game.num_actions:
        raise ValueError(
            f"the env has {n} actions but the agent's game has {game.num_actions}: "
            "make agent.game match the env (board size)"
        )
    space = getattr(observation_space, "spaces", {}).get("observation", observation_space)
    shape = getattr(space, "shape", None)
    planes = tuple(game.planes(game.initial_state()).shape)
    if shape is not None and tuple(shape) != planes:
        raise ValueError(
            f"the env's observations have shape {tuple(shape)} but the agent's game gives "
            f"planes {planes}: make agent.game (board_size, history) match the env"
        )


def _agent_file(path: str | Path) -> dict[str, Any]:
    """The {"config", "net"} tree of an AlphaZero agent file, read as data."""
    saved = load_data(path)
    if not isinstance(saved, dict) or "config" not in saved or "net" not in saved:
        raise ValueError(f"{path} is not an AlphaZero agent file (no stored config and weights)")
    return saved


def _load_net(net: torch.nn.Module, weights: Any, path: str | Path) -> None:
    try:
        net.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: the weights do not fit the network: {exc}") from None
