"""Supervised pre-training of the policy-value network from SGF game records (AlphaGo's first
stage), run before the first self-play game of a new run when ``agent.pretrain`` is set.

Every move of every record is an example: the planes of the position before the move, a
one-hot policy target on the move played, and the game's result for the mover (+1, -1, 0) as
the value target. The games are split (seeded) into training and validation games, so that no
position is on both sides; with ``augment`` each training position is added in all 8 board
symmetries. :func:`rlcourse.supervised.fit` trains on the same loss as self-play
(:func:`agents.alphazero.learner.policy_value_loss`: policy cross-entropy plus value squared
error) and logs ``pretrain/*`` scalars per epoch; the policy accuracy (the most probable move
is the move played) is the fit's metric, ``pretrain/train_metric`` and ``pretrain/val_metric``.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from agents.alphazero.config import PretrainConfig
from agents.alphazero.learner import policy_value_loss, symmetry_permutations
from rlcourse.games import Game, GameRecords
from rlcourse.supervised import FitConfig, FitResult, fit

TAG = "pretrain"


class Positions(NamedTuple):
    """Examples as arrays: planes [N, C, H, W], one-hot policy targets [N, A], value targets
    [N], and the index of the game each came from [N]."""

    planes: np.ndarray
    policies: np.ndarray
    values: np.ndarray
    games: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def take(self, index: np.ndarray) -> Positions:
        return Positions(*(array[index] for array in self))

    def augmented(self, game: Game) -> Positions:
        """Every position in each of the game's 8 symmetries (identity first)."""
        plane_maps, policy_maps = symmetry_permutations(game, self.planes.shape[1:])
        flat = self.planes.reshape(len(self), -1)
        images = [
            Positions(flat[:, planes].reshape(self.planes.shape), self.policies[:, policy],
                      self.values, self.games)
            for planes, policy in zip(plane_maps, policy_maps, strict=True)
        ]  # fmt: skip
        return Positions(*(np.concatenate(parts) for parts in zip(*images, strict=True)))


class PretrainReport(NamedTuple):
    """What pre-training did: data sizes, the fit's history, and validation scores of the
    final network (``{}`` without validation games)."""

    files: int
    positions: int  # before augmentation
    train_positions: int  # after augmentation
    fit: FitResult
    validation: dict[str, float]  # loss, policy_loss, value_loss, policy_accuracy

    def summary(self) -> str:
        fit = self.fit
        line = (
            f"pretrain: {self.positions} positions from {self.files} SGF files "
            f"({self.train_positions} training positions), {fit.epochs} epochs in "
            f"{fit.seconds:.1f} s, train loss {fit.train_loss[-1]:.3f}"
        )
        if self.validation:
            v = self.validation
            line += (
                f"; validation loss {v['loss']:.3f} (policy {v['policy_loss']:.3f}, value "
                f"{v['value_loss']:.3f}), policy accuracy {v['policy_accuracy']:.1%}"
            )
        return line


def sgf_files(patterns: Sequence[str]) -> list[Path]:
    """The .sgf files named by ``patterns`` (files, folders whose *.sgf are taken, or glob
    patterns), sorted and each once; a pattern that names no .sgf file is an error."""
    found: set[Path] = set()
    for pattern in patterns:
        matches = [Path(p) for p in sorted(glob.glob(str(Path(pattern).expanduser())))]
        files = [f for m in matches for f in (sorted(m.glob("*.sgf")) if m.is_dir() else [m])]
        files = [f for f in files if f.is_file()]
        if not files:
            raise FileNotFoundError(f"agent.pretrain.sgf: {pattern!r} names no .sgf file")
        found.update(files)
    return sorted(found)


def load_positions(paths: Sequence[str | Path], game: Game) -> Positions:
    """Every move of the main line of each file's (first) game as an example
    (:meth:`rlcourse.games.GameRecords.examples_from_sgf`); on Go, a record whose board size or
    komi differs from ``game`` (or that is malformed) raises :class:`envs.go.sgf.SgfError`
    naming its file."""
    if not isinstance(game, GameRecords):
        raise ValueError(f"{type(game).__name__} has no game records to pre-train from")
    planes, moves, values, games = [], [], [], []
    for index, path in enumerate(paths):
        for example in game.examples_from_sgf(path):
            planes.append(game.planes(example.state))
            moves.append(example.move)
            values.append(example.outcome)
            games.append(index)
    if not moves:
        raise ValueError(f"the {len(paths)} SGF records hold no moves")
    policies = np.eye(game.num_actions, dtype=np.float32)[moves]
    return Positions(np.stack(planes), policies, np.asarray(values, np.float32),
                     np.asarray(games, np.int64))  # fmt: skip


def split_games(
    positions: Positions, fraction: float, rng: np.random.Generator
) -> tuple[Positions, Positions | None]:
    """(training, validation) positions, holding out ``round(fraction * games)`` whole games
    drawn at random; no validation set when ``fraction`` is 0."""
    if fraction == 0:
        return positions, None
    games = np.unique(positions.games)
    held = round(fraction * len(games))
    if not 0 < held < len(games):
        raise ValueError(
            f"agent.pretrain.validation_fraction={fraction} of {len(games)} games leaves no "
            "training or no validation game; use more games or validation_fraction=0"
        )
    validation = np.isin(positions.games, rng.permutation(games)[:held])
    return positions.take(~validation), positions.take(validation)


def _loss_parts(output: Any, targets: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """`policy_value_loss` of a network output ``(logits, values)`` against ``(policies,
    outcomes)`` targets, the pair form ``fit`` hands over."""
    (logits, values), (policies, outcomes) = output, targets
    return policy_value_loss(logits, values, policies, outcomes)


def fit_loss(output: Any, targets: Any) -> torch.Tensor:
    """The loss alone, as ``fit`` takes it."""
    return _loss_parts(output, targets)[0]


def policy_accuracy(output: Any, targets: Any) -> torch.Tensor:
    """Share of positions whose most probable move is the target's."""
    return (output[0].argmax(-1) == targets[0].argmax(-1)).float().mean()


def scores(net: nn.Module, positions: Positions, batch_size: int = 1024) -> dict[str, float]:
    """Mean loss, its policy and value parts, and the policy accuracy over ``positions``, with
    the network in eval mode."""
    device = next(net.parameters()).device
    was_training, totals = net.training, dict[str, float]()
    net.eval()
    with torch.no_grad():
        for start in range(0, len(positions), batch_size):
            part = positions.take(np.arange(start, min(start + batch_size, len(positions))))
            output = net(torch.from_numpy(part.planes).to(device))
            targets = (torch.from_numpy(part.policies), torch.from_numpy(part.values))
            metrics = _loss_parts(output, targets)[1]
            metrics["policy_accuracy"] = float(policy_accuracy(output, targets))
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0.0) + value * len(part)
    net.train(was_training)
    return {key: value / len(positions) for key, value in totals.items()}


def _pairs(positions: Positions) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    return positions.planes, (positions.policies, positions.values)


def pretrain(
    net: nn.Module,
    game: Game,
    config: PretrainConfig,
    seed: int = 0,
    run: Any = None,
) -> PretrainReport:
    """Fit ``net`` to the records ``config.sgf`` names; scalars go to ``run`` (a
    :class:`rlcourse.runs.Run`) under ``pretrain/``: per epoch (steps 1, 2, ...), then the
    final network's validation scores as ``pretrain/final_val_*``. The same records, network
    and seed give the same weights."""
    files = sgf_files(config.sgf)
    positions = load_positions(files, game)
    train, validation = split_games(positions, config.validation_fraction,
                                    np.random.default_rng([seed, 3]))  # fmt: skip
    if config.augment:
        train = train.augmented(game)
    fit_config = FitConfig(epochs=config.epochs, batch_size=config.batch_size, optimizer="adamw",
                           lr=config.lr, weight_decay=config.weight_decay, validation_split=0.0,
                           patience=config.patience)  # fmt: skip
    result = fit(net, _pairs(train), fit_loss, fit_config,
                 validation=None if validation is None else _pairs(validation),
                 metric=policy_accuracy, seed=seed, run=run, tag=TAG,
                 progress=False)  # fmt: skip
    final = {} if validation is None else scores(net, validation, config.batch_size)
    if run is not None and final:
        run.log({f"{TAG}/final_val_{k}": v for k, v in final.items()}, result.epochs)
    return PretrainReport(len(files), len(positions), len(train), result, final)
