"""The judge of a training AlphaZero network (agents.alphazero.judge) and the ablation script:
lines of minimax lost, arms as overrides of a base config, and the benchmark JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from agents.alphazero.judge import lines_result, network_lines, tic_tac_toe_config
from envs.tictactoe import TicTacToe, optimal_actions
from rlcourse.benchmarking import check_results
from rlcourse.config import ConfigError
from rlcourse.evaluation import MatchResult

ROOT = Path(__file__).resolve().parents[1]
TTT = TicTacToe()
TINY = """\
env: {id: rlcourse/TicTacToe-v0}
agent:
  name: alphazero
  game: {name: tictactoe}
  mcts: {simulations: 4, leaves_per_call: 1}
  selfplay: {parallel_games: 4, resign_threshold: null}
  network: {filters: 8, blocks: 1, value_hidden: 8}
  learner: {batch_size: 8, min_replay: 8, games_per_iteration: 4, steps_per_iteration: 2,
            replay_window: 256}
train: {episodes: 1}
"""
TINY_GO = """\
env: {id: rlcourse/Go-v0, kwargs: {board_size: 5}}
agent:
  name: alphazero
  game: {name: go, board_size: 5, komi: 7.5, history: 1, move_cap: 20}
  mcts: {simulations: 4, leaves_per_call: 1}
  selfplay: {parallel_games: 2, resign_threshold: null}
  network: {filters: 8, blocks: 1, value_hidden: 8}
  learner: {batch_size: 8, min_replay: 8, games_per_iteration: 2, steps_per_iteration: 2,
            replay_window: 256}
  arena: {simulations: 4, temperature_moves: 0}
train: {episodes: 1}
"""


def load_script():
    spec = importlib.util.spec_from_file_location(
        "ablate_alphazero", ROOT / "scripts" / "ablate_alphazero.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # NamedTuples look their module up there
    spec.loader.exec_module(module)
    return module


ablate = load_script()


# ------------------------------------------------------------------------------ the judge


def first_empty(state) -> int:
    return int(np.flatnonzero(TTT.legal_actions(state))[0])


class Uniform:
    """Equal priors on the legal moves, as a network evaluator gives them no prior."""

    def evaluate(self, states):
        legal = np.stack([TTT.legal_actions(s) for s in states]).astype(float)
        return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(states))


def test_a_perfect_player_loses_no_line_and_the_first_empty_cell_loses_many():
    perfect = lines_result(TTT, lambda s: optimal_actions(s)[0], optimal_actions)
    assert perfect.losses == perfect.wins == 0 and perfect.draws == perfect.games > 10
    naive = lines_result(TTT, first_empty, optimal_actions)
    assert naive.losses > 0.5 * naive.games
    # uniform priors: the network's top move is the lowest legal cell
    assert network_lines(TTT, Uniform(), optimal_actions) == naive


# --------------------------------------------------------------------------- arguments


def test_arms_are_a_name_then_overrides():
    opts = ablate.parse_args(["--arm", "puct16", "mcts.simulations=16", "--arm", "base",
                              "--seeds", "0", "2"])  # fmt: skip
    assert opts.arms == [ablate.Arm("puct16", ("mcts.simulations=16",)), ablate.Arm("base", ())]
    assert opts.seeds == [0, 2] and (opts.rounds, opts.every, opts.threads) == (12, 2, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arm", "a", "--arm", "a"], "two arms have this name"),
        (["--arm", "mcts.root=gumbel"], "an arm's name comes first"),
        (["--arm", "a", "mcts.root"], "'mcts.root' is not KEY=VALUE"),
        (["--arm", "a", "--rounds", "0"], "--rounds must be at least 1, got 0"),
        (["--arm", "a", "--seeds", "1", "1"], "--seeds must be distinct"),
        (["--arm", "a", "--games", "3"], "--games must be even"),
        ([], "the following arguments are required: --arm"),
    ],
)
def test_bad_arguments_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        ablate.parse_args(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_an_arm_overrides_the_base_and_runs_in_one_process():
    base = ablate.base_experiment(None)
    plain = ablate.arm_config(base, ablate.Arm("base", ()), "tic-tac-toe")
    assert plain == tic_tac_toe_config()
    arm = ablate.Arm("pcr", ("mcts.root=gumbel", "agent.mcts.simulations=16",
                             "selfplay.full_search_probability=0.25"))  # fmt: skip
    config = ablate.arm_config(base, arm, "tic-tac-toe")
    assert (config.mcts.root, config.mcts.simulations) == ("gumbel", 16)
    assert config.selfplay.full_search_probability == 0.25
    assert config.learner == plain.learner and config.network == plain.network
    go = ablate.arm_config(ablate.base_experiment(str(ROOT / "configs/go5/alphazero.yaml")),
                           ablate.Arm("fast", ("mcts.simulations=8",)), "go5")  # fmt: skip
    assert (go.game.name, go.game.board_size, go.mcts.simulations) == ("go", 5, 8)
    assert (go.distributed.workers, go.arena.every) == (0, 0)
    assert go.distributed.games_per_call == go.learner.games_per_iteration


def test_an_unknown_key_is_an_error_naming_it_and_the_arm(capsys):
    base = ablate.base_experiment(None)
    with pytest.raises(ConfigError, match=r"arm typo(.|\n)*agent\.mcts\.rot: unknown key"):
        ablate.arm_config(base, ablate.Arm("typo", ("mcts.rot=gumbel",)), "tic-tac-toe")
    assert ablate.main(["--arm", "ok", "--arm", "typo", "mcts.rot=gumbel"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "mcts.rot" in err and "'root'" in err


# ------------------------------------------------------------------------------ output


def judgement(arm, seed, cpu_s, search_lost, net_lost, played=10):
    results = {"search": MatchResult(0, played - search_lost, search_lost),
               "net": MatchResult(0, played - net_lost, net_lost)}  # fmt: skip
    return ablate.Judgement(arm, seed, 4, cpu_s, cpu_s, results)


def test_summary_cases_are_means_over_seeds_with_ratios_to_the_first_arm():
    results = ablate.summary_results([
        judgement("a", 0, 2.0, 1, 5), judgement("a", 1, 4.0, 3, 5),
        judgement("b", 0, 6.0, 0, 0), judgement("b", 1, 6.0, 0, 10),
    ])  # fmt: skip
    check_results(results)
    assert results["a/round4/search_not_lost"]["ours"] == pytest.approx(0.8)
    assert results["a/round4/search_not_lost"]["ratio"] == pytest.approx(1.0)
    b = results["b/round4/search_not_lost"]
    assert (b["ours"], b["a"], b["ratio"]) == (1.0, pytest.approx(0.8), pytest.approx(1.25))
    cpu = results["b/round4/cpu_s"]  # slower than the first arm: ratio below 1
    assert (cpu["ours"], cpu["a"], cpu["ratio"]) == (6.0, 3.0, 0.5)
    net = results["b/round4/net_not_lost"]
    assert (net["ours"], net["min"], net["max"], net["seeds"]) == (0.5, 0.0, 1.0, 2)


def test_a_tiny_run_of_two_arms_writes_benchmark_json(tmp_path, capsys):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    out = tmp_path / "ablation.json"
    code = ablate.main(["--config", str(config), "--arm", "puct", "--arm", "gumbel",
                        "mcts.root=gumbel", "--rounds", "1", "--judge-sims", "2",
                        "--json", str(out), "--no-progress"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "search lost" in printed and "\ngumbel | " in printed
    results = json.loads(out.read_text())
    check_results(results)
    assert set(results) == {f"{arm}/round1/{m}" for arm in ("puct", "gumbel")
                            for m in ("search_not_lost", "net_not_lost", "cpu_s")}  # fmt: skip
    assert results["puct/round1/cpu_s"]["ratio"] == 1.0
    assert 0 < results["gumbel/round1/cpu_s"]["ours"] < 60


def test_a_tiny_go_run_plays_the_opponent_as_black_and_white(tmp_path, capsys):
    config = tmp_path / "go.yaml"
    config.write_text(TINY_GO)
    out = tmp_path / "ablation.json"
    code = ablate.main(["--config", str(config), "--arm", "base", "--rounds", "1",
                        "--opponent", "random", "--games", "2", "--json", str(out),
                        "--no-progress"])  # fmt: skip
    assert code == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("base "))
    cells = [cell.strip() for cell in row.split("|")]
    assert cells[:3] == ["base", "0", "1"] and cells[4] in ("0.00", "1.00")  # one game as Black
    results = json.loads(out.read_text())
    check_results(results)
    assert set(results) == {"base/round1/score", "base/round1/cpu_s"}
    assert results["base/round1/score"]["ours"] in (0.0, 0.5, 1.0)
