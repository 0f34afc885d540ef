#!/usr/bin/env python
"""Ablate AlphaZero's options: train arms (overrides of one base config) and judge each as it
learns, so that a technique is kept only where it helps.

    python scripts/ablate_alphazero.py --arm puct32 mcts.simulations=32 \\
        --arm gumbel16 mcts.root=gumbel mcts.simulations=16 --seeds 0 1 2 --rounds 12 --every 2
    python scripts/ablate_alphazero.py --config configs/go5/alphazero.yaml --arm base \\
        --arm pcr selfplay.full_search_probability=0.25 --rounds 40 --every 10 --games 20

An arm is ``--arm NAME [KEY=VALUE ...]``: the base config with the AlphaZero keys set (YAML
values; ``mcts.root=gumbel``, or ``agent.mcts.root=gumbel`` alike). The base is the tic-tac-toe
system of the tests (``agents.alphazero.judge.tic_tac_toe_config``: 32 games with a
24-simulation search and 100 gradient steps a round) or the ``agent`` section of ``--config``.
Every arm and seed trains in one process, without Ray or the arena, one round being
``games_per_iteration`` self-play games and one training iteration; the process CPU time of
the rounds is recorded (not of the judging).

Every ``--every`` rounds, and after the last, the learner's network is judged:

- tic-tac-toe: the minimax lines it loses, as X and as O, against every optimal move minimax
  can choose: ``search``, a greedy ``--judge-sims`` PUCT search with the network (the same
  yardstick for every arm), and ``net``, the network's most probable move without search;
- Go: ``--games`` games against ``--opponent`` (default: GNU Go at the config's
  ``arena.gnugo_level`` when installed, else plain MCTS with ``arena.mcts_simulations``),
  colours alternating, the network searching ``arena.simulations`` per move as the arena's
  network does; the score (draws half) with its 95% Wilson interval, and by colour.

Prints a row per judgement (arm, seed, round, losses or score, CPU s), then a summary per arm
and round: the mean over seeds with the spread (min-max). ``--json FILE`` writes the summary in
the benchmark format: per arm and round a case ``ours`` (the mean over seeds) with the first
arm's value beside it and ``ratio`` oriented so that bigger is better (share of lines not
lost, score: ours / first arm; CPU seconds: first arm / ours).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from rlcourse.cli import command

if TYPE_CHECKING:
    from agents.alphazero.config import AlphaZeroConfig
    from rlcourse.evaluation import MatchResult

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
OPPONENTS = ("auto", "gnugo", "mcts", "random")
# The experiment the default base is the agent of: its env names the game, its train section
# is needed to validate it and otherwise unused.
TIC_TAC_TOE_ENV = {"id": "rlcourse/TicTacToe-v0", "kwargs": {}}
UNUSED_TRAIN = {"episodes": 1}


class Arm(NamedTuple):
    name: str
    overrides: tuple[str, ...]  # KEY=VALUE, keys of the AlphaZero config


class Judgement(NamedTuple):
    """One arm and seed judged after ``round`` rounds. ``results``: tic-tac-toe ``search`` and
    ``net`` over the minimax lines, or Go ``black`` and ``white`` over the match's games."""

    arm: str
    seed: int
    round: int
    cpu_s: float  # process CPU time of the rounds so far [s]
    wall_s: float  # wall-clock time of the rounds so far [s]
    results: dict[str, MatchResult]


# ----------------------------------------------------------------------------- arguments


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--arm",
        nargs="+",
        action="append",
        required=True,
        metavar=("NAME", "KEY=VALUE"),
        help="an arm: its name, then overrides of the base config (repeat for each arm)",
    )
    p.add_argument("--config", metavar="FILE", help="base config (default: tic-tac-toe)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], metavar="S", help="default 0")
    p.add_argument("--rounds", type=int, default=12, help="rounds per arm and seed (default 12)")
    p.add_argument("--every", type=int, default=2, help="rounds between judgements (default 2)")
    p.add_argument(
        "--judge-sims",
        type=int,
        default=32,
        help="tic-tac-toe: simulations of the judging search (default 32)",
    )
    p.add_argument(
        "--games", type=int, default=10, help="go: games per judgement, even (default 10)"
    )
    p.add_argument("--opponent", choices=OPPONENTS, default="auto", help="go: the opponent")
    p.add_argument("--json", metavar="FILE", help="also write the summary as benchmark JSON")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument(
        "--jobs", type=int, default=1, help="processes running arm-seed pairs (default 1)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The options, with ``arms`` as :class:`Arm`\\ s; argparse's error (exit 2) for a bad
    one."""
    p = parser()
    opts = p.parse_args(argv)
    for flag in ("rounds", "every", "judge_sims", "games", "threads", "jobs"):
        if getattr(opts, flag) < 1:
            p.error(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(opts, flag)}")
    if opts.games % 2:
        p.error(f"--games must be even (half as Black, half as White), got {opts.games}")
    if min(opts.seeds) < 0 or len(set(opts.seeds)) < len(opts.seeds):
        p.error(f"--seeds must be distinct and non-negative, got {opts.seeds}")
    try:
        opts.arms = arms_of(opts.arm)
    except ValueError as exc:
        p.error(str(exc))
    return opts


def arms_of(specs: Sequence[Sequence[str]]) -> list[Arm]:
    """``--arm NAME KEY=VALUE ...`` lists as arms; ValueError naming a bad name or override."""
    arms: list[Arm] = []
    for name, *overrides in specs:
        if not NAME.fullmatch(name):
            raise ValueError(
                f"--arm {name}: an arm's name comes first (letters, digits, _ . + -), then "
                "KEY=VALUE overrides"
            )
        if name in (arm.name for arm in arms):
            raise ValueError(f"--arm {name}: two arms have this name")
        for item in overrides:
            if "=" not in item:
                raise ValueError(f"--arm {name}: {item!r} is not KEY=VALUE")
        arms.append(Arm(name, tuple(overrides)))
    return arms


def base_experiment(config_file: str | None) -> dict[str, Any]:
    """The base experiment's sections, unvalidated: ``config_file``'s, or the default
    tic-tac-toe system as an experiment."""
    from rlcourse.config import read_config_file

    if config_file is not None:
        return read_config_file(config_file)
    from agents.alphazero.judge import tic_tac_toe_config

    agent = tic_tac_toe_config().model_dump(mode="json")
    return {"env": TIC_TAC_TOE_ENV, "agent": agent, "train": UNUSED_TRAIN}


def arm_config(base: dict[str, Any], arm: Arm, source: str) -> AlphaZeroConfig:
    """The base with the arm's overrides, validated and run in one process; a ConfigError
    naming the arm and every bad key, or ValueError for a base that is not AlphaZero's."""
    from agents import agent_schemas
    from agents.alphazero.config import AlphaZeroConfig
    from agents.alphazero.judge import one_process
    from rlcourse.config import apply_overrides, parse_config

    keys = [o if o.startswith("agent.") else f"agent.{o}" for o in arm.overrides]
    data = apply_overrides(base, keys)
    where = f"{source}, arm {arm.name}"
    config = parse_config(
        data, agent_schemas(), where, overridden=[k.partition("=")[0] for k in keys]
    )
    if not isinstance(config.agent, AlphaZeroConfig):
        raise ValueError(f"{source}: not an AlphaZero config (agent.name: alphazero)")
    return one_process(config.agent)


# ----------------------------------------------------------------------------- judging


def go_opponent(name: str) -> str:
    """``auto``: gnugo when GNU Go is installed, else plain MCTS."""
    if name != "auto":
        return name
    import shutil

    from envs.go.opponents import GNUGO

    return "gnugo" if shutil.which(GNUGO.split()[0]) else "mcts"


def train_and_judge(
    arm: str, config: AlphaZeroConfig, seed: int, opts: argparse.Namespace, bar: Any = None
) -> list[Judgement]:
    """Train one arm from ``seed`` for ``opts.rounds`` rounds, judging it every
    ``opts.every`` rounds and after the last; ``bar`` (a progress bar) advances a round at a
    time."""
    import envs  # noqa: F401  (registers the games)
    from agents.alphazero.arena import fixed_opponent, network_player
    from agents.alphazero.games import make_game
    from agents.alphazero.judge import (
        network_lines,
        results_by_colour,
        search_lines,
        trained_evaluator,
        trained_net,
    )
    from agents.alphazero.system import SelfPlaySystem
    from envs.tictactoe import optimal_actions

    game = make_game(config.game)
    system = SelfPlaySystem(config, seed=seed)
    opponent = None
    if config.game.name == "go":
        opponent = fixed_opponent(go_opponent(opts.opponent), game, config.arena, seed + 1)
    judgements: list[Judgement] = []
    cpu_s = wall_s = 0.0
    try:
        for round_ in range(1, opts.rounds + 1):
            cpu, wall = time.process_time(), time.perf_counter()
            system.round()
            cpu_s += time.process_time() - cpu
            wall_s += time.perf_counter() - wall
            if bar is not None:
                bar.update(1)
            if round_ % opts.every and round_ != opts.rounds:
                continue
            if opponent is None:
                evaluator = trained_evaluator(system)
                results = {
                    "search": search_lines(game, evaluator, opts.judge_sims, optimal_actions),
                    "net": network_lines(game, evaluator, optimal_actions),
                }
            else:
                arena = config.arena
                me = network_player(game, trained_net(system), arena, seed, arena.temperature_moves)
                black, white = results_by_colour(game, me, opponent, opts.games)
                results = {"black": black, "white": white}
            judgement = Judgement(arm, seed, round_, cpu_s, wall_s, results)
            judgements.append(judgement)
            if bar is not None:
                bar.write(row_line(judgement, opts.width))
    finally:
        close = getattr(opponent, "close", None)  # GNU Go's process
        if close is not None:
            close()
        system.shutdown()
    return judgements


def run_pair(task: tuple[str, AlphaZeroConfig, int, argparse.Namespace]) -> list[Judgement]:
    """:func:`train_and_judge` in a worker process of ``--jobs``."""
    import torch

    arm, config, seed, opts = task
    torch.set_num_threads(opts.threads)
    return train_and_judge(arm, config, seed, opts)


# ----------------------------------------------------------------------------- output


def pooled(results: Sequence[MatchResult]) -> MatchResult:
    from rlcourse.evaluation import MatchResult

    return MatchResult(*(sum(r[i] for r in results) for i in range(3)))


def lost(result: MatchResult) -> str:
    return f"{result.losses}/{result.games}"


def scored(result: MatchResult) -> str:
    low, high = result.interval()
    return f"{result.score:.2f} ({low:.2f}-{high:.2f})"


def row_line(j: Judgement, width: int) -> str:
    """One judgement as a row of the table (see :func:`header_line`)."""
    lead = f"{j.arm:<{width}} | {j.seed:>4} | {j.round:>5} | "
    if "search" in j.results:
        cells = f"{lost(j.results['search']):>11} | {lost(j.results['net']):>8}"
    else:
        black, white = j.results["black"], j.results["white"]
        cells = (f"{scored(pooled([black, white])):>18} | {black.score:>8.2f} | "
                 f"{white.score:>8.2f} | {j.wall_s:>6.1f}")  # fmt: skip
    return f"{lead}{cells} | {j.cpu_s:>7.1f}"


def header_line(go: bool, width: int) -> str:
    cells = ("score (95% Wilson) | as Black | as White | wall s" if go
             else "search lost | net lost")  # fmt: skip
    line = f"{'arm':<{width}} | seed | round | {cells} |   CPU s"
    return f"{line}\n{re.sub(r'[^|]', '-', line).replace('|', '+')}"


def mean_spread(values: Sequence[float], digits: int = 1) -> str:
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def lost_of(group: Sequence[Judgement], kind: str) -> str:
    """Lines lost (mean and spread over seeds) of the mean number played (a line's length
    depends on the judged side's choices)."""
    played = sum(j.results[kind].games for j in group) / len(group)
    return f"{mean_spread([j.results[kind].losses for j in group])} of {played:.0f}"


def by_arm_and_round(judgements: Sequence[Judgement]) -> dict[tuple[str, int], list[Judgement]]:
    groups: dict[tuple[str, int], list[Judgement]] = {}
    for j in judgements:
        groups.setdefault((j.arm, j.round), []).append(j)
    return groups


def print_summary(judgements: Sequence[Judgement]) -> None:
    """Per arm and round: the mean over seeds and the spread (min-max)."""
    from rlcourse.benchmarking import print_rows

    go = "black" in judgements[0].results
    head = ["arm", "round", "seeds"]
    head += ["score", "pooled (95% Wilson)", "wall s"] if go else ["search lost", "net lost"]
    rows = [[*head, "CPU s"]]
    for (arm, round_), group in by_arm_and_round(judgements).items():
        cpu = mean_spread([j.cpu_s for j in group])
        lead = [arm, str(round_), str(len(group))]
        if go:
            games = [pooled([j.results["black"], j.results["white"]]) for j in group]
            scores = mean_spread([g.score for g in games], 2)
            rows.append([*lead, scores, scored(pooled(games)),
                         mean_spread([j.wall_s for j in group]), cpu])  # fmt: skip
        else:
            cells = [lost_of(group, k) for k in ("search", "net")]
            rows.append([*lead, *cells, cpu])
    print("\nmean over seeds (min-max)")
    print_rows(rows)


def summary_results(judgements: Sequence[Judgement]) -> dict[str, dict[str, Any]]:
    """Benchmark cases per arm and round: the mean over seeds (``ours``), its min and max, and
    the first arm's mean at that round with the ratio to it (bigger is better)."""
    measures: dict[str, dict[str, float]] = {}  # case -> the arm's per-seed values, by seed
    units: dict[str, str] = {}
    for j in judgements:
        values = {"cpu_s": j.cpu_s}
        if "search" in j.results:
            for k in ("search", "net"):
                result = j.results[k]
                values[f"{k}_not_lost"] = 1 - result.losses / result.games
        else:
            values["score"] = pooled([j.results["black"], j.results["white"]]).score
        for name, value in values.items():
            measures.setdefault(f"{j.arm}/round{j.round}/{name}", {})[str(j.seed)] = value
            units[name] = {"cpu_s": "s CPU (the rounds')", "score": "score (draws half)"}.get(
                name, "share of minimax lines not lost"
            )
    first_arm = judgements[0].arm
    results: dict[str, dict[str, Any]] = {}
    for case, per_seed in measures.items():
        _, round_, name = case.split("/")
        ours = sum(per_seed.values()) / len(per_seed)
        first = measures.get(f"{first_arm}/{round_}/{name}")
        base = sum(first.values()) / len(first) if first else None
        ratio = (base / ours if name == "cpu_s" else ours / base) if ours and base else None
        results[case] = {"ours": ours, first_arm: base, "ratio": ratio, "unit": units[name],
                         "min": min(per_seed.values()), "max": max(per_seed.values()),
                         "seeds": len(per_seed)}  # fmt: skip
    return results


# ----------------------------------------------------------------------------- main


def run(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the env ids a config names)
    from rlcourse.benchmarking import version_line, write_json
    from rlcourse.config import ConfigError

    source = opts.config or "tic-tac-toe"
    try:
        base = base_experiment(opts.config)
        configs = {arm.name: arm_config(base, arm, source) for arm in opts.arms}
        games = {config.game.name for config in configs.values()}
        if len(games) > 1:
            raise ValueError(f"the arms play different games ({', '.join(sorted(games))})")
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch
    from tqdm import tqdm

    torch.set_num_threads(opts.threads)
    go = next(iter(configs.values())).game.name == "go"
    if go and opts.opponent in ("auto", "gnugo"):
        print(f"opponent: {go_opponent(opts.opponent)}")
    print(f"{version_line(['torch', 'numpy'])}, torch threads {opts.threads}")
    opts.width = max(len("arm"), *(len(arm.name) for arm in opts.arms))
    pairs = [(arm.name, configs[arm.name], seed) for seed in opts.seeds for arm in opts.arms]
    bar = tqdm(total=len(pairs) * opts.rounds, unit="round", file=sys.stderr,
               disable=True if opts.no_progress else None, dynamic_ncols=True)  # fmt: skip
    bar.write(header_line(go, opts.width))
    judgements: list[Judgement] = []
    with bar:
        if opts.jobs == 1:
            for arm, config, seed in pairs:
                judgements += train_and_judge(arm, config, seed, opts, bar)
        else:
            judgements = run_in_processes(pairs, opts, bar)
    print_summary(judgements)
    if opts.json:
        write_json(summary_results(judgements), opts.json)
        print(f"wrote {opts.json}")
    return 0


def run_in_processes(
    pairs: list[tuple[str, AlphaZeroConfig, int]], opts: argparse.Namespace, bar: Any
) -> list[Judgement]:
    """Every arm-seed pair in ``opts.jobs`` fresh processes; rows as each pair finishes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # no forked torch state
    judgements: list[Judgement] = []
    with ProcessPoolExecutor(opts.jobs, mp_context=context) as pool:
        for done in pool.map(run_pair, [(*pair, opts) for pair in pairs]):
            for judgement in done:
                bar.write(row_line(judgement, opts.width))
            bar.update(opts.rounds)
            judgements += done
    return judgements


main = command(run)


if __name__ == "__main__":
    sys.exit(main())
