"""Supervised pre-training of the AlphaZero network from SGF records: examples, symmetries,
the game split, the fit, the config section, the hook into a new run, and the GNU Go game
generator."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import envs  # noqa: F401
from agents import agent_schemas
from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.config import AlphaZeroConfig, NetworkConfig, PretrainConfig
from agents.alphazero.network import PolicyValueNet
from agents.alphazero.pretrain import (
    load_positions,
    pretrain,
    scores,
    sgf_files,
    split_games,
)
from envs.go.game import GoGame
from envs.go.sgf import SgfError, read_sgf, sgf_to_examples
from rlcourse.config import parse_config
from rlcourse.runs import Run

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
GAME = GoGame(board_size=5, komi=7.5, history=1)
# Three short 5x5 games (no captures); the first ends in a resignation by white.
RECORDS = {
    "a.sgf": "(;GM[1]FF[4]SZ[5]KM[7.5]RE[B+R];B[cc];W[bc];B[cb];W[bb];B[dc])",
    "b.sgf": "(;GM[1]FF[4]SZ[5]KM[7.5]RE[W+3.5];B[cc];W[dd];B[dc];W[cd];B[bd];W[be])",
    "c.sgf": "(;GM[1]FF[4]SZ[5]KM[7.5]RE[0];B[bb];W[dd];B[db];W[bd])",
}
MOVES = 5 + 6 + 4
TINY = NetworkConfig(filters=8, blocks=1, value_hidden=8)


def write_records(folder: Path, records=RECORDS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in records.items():
        (folder / name).write_text(text)
    return folder


def tiny_net(seed: int = 0) -> PolicyValueNet:
    torch.manual_seed(seed)
    return PolicyValueNet(GAME.planes_shape, GAME.num_actions, TINY).eval()


def recorded_move_probability(net, positions) -> float:
    with torch.no_grad():
        logits, _ = net.eval()(torch.from_numpy(positions.planes))
    probs = torch.softmax(logits, -1).numpy()
    return float((probs * positions.policies).sum(1).mean())


def test_examples_hold_the_planes_the_move_and_the_result_for_the_mover(tmp_path):
    folder = write_records(tmp_path)
    positions = load_positions(sgf_files([str(folder)]), GAME)
    assert len(positions) == MOVES and positions.planes.shape == (MOVES, *GAME.planes_shape)
    # a.sgf: black won (B+R), black moves first: +1, -1, +1, -1, +1 for the movers.
    np.testing.assert_array_equal(positions.values[:5], [1, -1, 1, -1, 1])
    np.testing.assert_array_equal(positions.values[5:11], [-1, 1, -1, 1, -1, 1])  # W+3.5
    np.testing.assert_array_equal(positions.values[11:], [0, 0, 0, 0])  # a draw
    # the second example of a.sgf: white to play at bc (row 2, col 1) after black cc
    state = GAME.initial_state().play(2 * 5 + 2)
    np.testing.assert_array_equal(positions.planes[1], GAME.planes(state))
    assert positions.policies[1].sum() == 1 and positions.policies[1][2 * 5 + 1] == 1
    np.testing.assert_array_equal(positions.games, [0] * 5 + [1] * 6 + [2] * 4)


def test_augmentation_adds_the_eight_images_of_game_symmetries(tmp_path):
    positions = load_positions(sgf_files([str(write_records(tmp_path))]), GAME)
    augmented = positions.augmented(GAME)
    assert len(augmented) == 8 * MOVES
    for i in (0, 7, MOVES - 1):
        images = GAME.symmetries(positions.planes[i], positions.policies[i])
        for k, (planes, policy) in enumerate(images):
            np.testing.assert_array_equal(augmented.planes[k * MOVES + i], planes)
            np.testing.assert_array_equal(augmented.policies[k * MOVES + i], policy)
            assert augmented.values[k * MOVES + i] == positions.values[i]
    # the quarter turn (k=1, counter-clockwise) takes white's reply bc (row 2, col 1) to
    # row 3, col 2
    assert augmented.policies[MOVES + 1][3 * 5 + 2] == 1


def test_the_split_holds_out_whole_games(tmp_path):
    positions = load_positions(sgf_files([str(write_records(tmp_path))]), GAME)
    train, validation = split_games(positions, 0.34, np.random.default_rng(0))
    assert len(np.unique(validation.games)) == 1 and len(train) + len(validation) == MOVES
    assert not set(train.games) & set(validation.games)
    assert split_games(positions, 0.0, np.random.default_rng(0)) == (positions, None)
    with pytest.raises(ValueError, match=r"validation_fraction=0.9 of 3 games leaves no"):
        split_games(positions, 0.9, np.random.default_rng(0))


def test_files_folders_and_globs_are_found_and_a_pattern_naming_nothing_is_refused(tmp_path):
    folder = write_records(tmp_path / "games")
    (folder / "notes.txt").write_text("not a record")
    names = [p.name for p in sgf_files([str(folder), str(folder / "a.sgf"), f"{folder}/[bc]*"])]
    assert names == ["a.sgf", "b.sgf", "c.sgf"]
    with pytest.raises(FileNotFoundError, match=r"agent.pretrain.sgf: '.*/nothing/\*.sgf' names"):
        sgf_files([str(folder), str(tmp_path / "nothing" / "*.sgf")])


def test_records_of_another_board_size_or_komi_are_refused_naming_the_file(tmp_path):
    folder = write_records(tmp_path, {"seven.sgf": "(;SZ[7]KM[7.5]RE[B+R];B[dd])"})
    with pytest.raises(SgfError, match=r"seven\.sgf: board size 7 differs from the game's 5"):
        load_positions(sgf_files([str(folder)]), GAME)
    (folder / "seven.sgf").write_text("(;SZ[5]KM[6.5]RE[B+R];B[cc])")
    with pytest.raises(SgfError, match=r"seven\.sgf: komi 6.5 differs from the game's 7.5"):
        load_positions(sgf_files([str(folder)]), GAME)


def test_pretraining_puts_more_probability_on_the_recorded_moves(tmp_path):
    folder = write_records(tmp_path)
    positions = load_positions(sgf_files([str(folder)]), GAME)
    net = tiny_net()
    before = recorded_move_probability(net, positions)
    config = PretrainConfig(sgf=[str(folder)], epochs=30, batch_size=32, lr=1e-2,
                            validation_fraction=0.0)  # fmt: skip
    report = pretrain(net, GAME, config, seed=0)
    after = recorded_move_probability(net, positions)
    assert before < 0.06  # about 1/26 for an untrained network
    assert after > 4 * before
    assert report.positions == MOVES and report.train_positions == 8 * MOVES
    assert report.fit.train_loss[-1] < report.fit.train_loss[0] and report.validation == {}
    assert not net.training  # left in the mode it came in
    fitted = scores(net, positions)
    assert fitted["loss"] == pytest.approx(fitted["policy_loss"] + fitted["value_loss"])
    assert fitted["policy_accuracy"] > 0.5


def test_same_records_and_seed_give_the_same_weights_and_a_validation_report(tmp_path):
    folder = write_records(tmp_path)
    config = PretrainConfig(sgf=[str(folder)], epochs=2, batch_size=16, validation_fraction=0.34)
    nets = [tiny_net(), tiny_net()]
    reports = [pretrain(net, GAME, config, seed=5) for net in nets]
    for a, b in zip(*(n.state_dict().values() for n in nets), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert set(reports[0].validation) == {"loss", "policy_loss", "value_loss", "policy_accuracy"}
    assert reports[0].fit.val_loss and "policy accuracy" in reports[0].summary()


# ----------------------------------------------------------------------------- config

AGENT = {
    "name": "alphazero",
    "game": {"name": "go", "board_size": 5, "komi": 7.5, "history": 1},
    "mcts": {"simulations": 4, "leaves_per_call": 2},
    "selfplay": {"parallel_games": 2, "resign_threshold": None},
    "network": TINY.model_dump(),
    "learner": {"batch_size": 8, "min_replay": 8, "games_per_iteration": 2,
                "steps_per_iteration": 1, "replay_window": 512},
    "arena": {"every": 0},
    "distributed": {"games_per_call": 2},
}  # fmt: skip


def experiment(tmp_path, pretrain_section, games: int = 2):
    data = {"name": "az", "env": {"id": "rlcourse/Go-v0", "kwargs": {"board_size": 5}},
            "agent": {**AGENT, "pretrain": pretrain_section},
            "train": {"episodes": games, "runs_dir": str(tmp_path / "runs"),
                      "checkpoint_every": 10**6, "seed": 0}}  # fmt: skip
    return parse_config(data, agent_schemas(), "test")


def test_the_pretrain_section_is_validated(tmp_path):
    config = experiment(tmp_path, {"sgf": "games/*.sgf"}).agent.pretrain
    assert config.sgf == ("games/*.sgf",) and config.augment and config.epochs == 10
    assert AlphaZeroConfig().pretrain is None
    for bad, message in (
        ({"sgf": []}, "at least 1 item"),
        ({"sgf": ["g"], "validation_fraction": 1.0}, "validation_fraction"),
        ({"sgf": ["g"], "epochs": 0}, "epochs"),
        ({"sgf": ["g"], "learning_rate": 0.1}, "learning_rate"),
        ({"epochs": 3}, "sgf"),
    ):
        with pytest.raises(Exception, match=message):
            experiment(tmp_path, bad)
    with pytest.raises(ValidationError, match=r"pretrain reads Go records .* 'tictactoe'"):
        AlphaZeroConfig(game={"name": "tictactoe"}, pretrain={"sgf": ["g"]})


def go_env():
    import gymnasium as gym

    return gym.make("rlcourse/Go-v0", board_size=5)


def test_a_new_run_pretrains_and_logs_it_and_a_resumed_run_does_not(tmp_path, capsys):
    folder = write_records(tmp_path / "games")
    section = {"sgf": [str(folder)], "epochs": 3, "batch_size": 32, "validation_fraction": 0.34}
    config = experiment(tmp_path, section)
    agent = AlphaZeroAgent(config.agent, seed=0)
    fresh = {k: v.clone() for k, v in agent.net.state_dict().items()}
    with Run.create(config, progress=False) as run:
        agent.learn(go_env, run)
    assert capsys.readouterr().out.startswith(f"pretrain: {MOVES} positions from 3 SGF files")
    events = EventAccumulator(str(run.dir), size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"pretrain/train_loss", "pretrain/val_loss", "pretrain/val_metric",
            "pretrain/final_val_policy_accuracy"} <= tags  # fmt: skip
    assert len(events.Scalars("pretrain/train_loss")) == 3
    assert any(not torch.equal(fresh[k], v) for k, v in agent.net.state_dict().items())

    shutil.rmtree(folder)  # a resumed run does not read the records again
    longer = experiment(tmp_path, section, games=4)
    resumed = AlphaZeroAgent(longer.agent, seed=0)
    with Run.open(run.dir, longer, progress=False) as again:
        resumed.learn(go_env, again)
    lines = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("pretrain:") for line in lines) and again.episode == 4


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pretrain_script_saves_a_network_and_scores_it_in_an_arena(tmp_path, capsys):
    folder = write_records(tmp_path / "games")
    args = [str(ROOT / "configs" / "go5" / "alphazero.yaml"), f"agent.pretrain.sgf=[{folder}]",
            "agent.pretrain.epochs=2", "agent.pretrain.validation_fraction=0",
            "agent.network.filters=8", "agent.network.blocks=1", f"train.runs_dir={tmp_path}",
            "--arena", "agent.arena.games=2", "agent.arena.simulations=4",
            "agent.arena.opponents=[random]"]  # fmt: skip
    assert load_script("pretrain").main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"pretrain: {MOVES} positions") and "arena vs random" in out
    run_dir = Path(out.split("run directory: ")[1].split()[0])
    agent = AlphaZeroAgent.from_file(run_dir / "agent.ckpt")
    assert agent.config.pretrain.epochs == 2
    assert load_script("pretrain").main(args[:1]) == 2  # no agent.pretrain section
    assert "agent.pretrain: give agent.pretrain.sgf" in capsys.readouterr().err


# ----------------------------------------------------------------------------- GNU Go games

GNUGO = Path("/usr/games/gnugo")


@pytest.mark.skipif(not GNUGO.exists(), reason="GNU Go is not installed")
def test_gnugo_games_writes_parseable_records_with_results(tmp_path, capsys):
    module = load_script("gnugo_games")
    out = tmp_path / "games"
    args = ["--size", "5", "--komi", "7.5", "--games", "2", "--level", "0", "--out", str(out)]
    assert module.main(args) == 0
    files = sorted(out.glob("*.sgf"))
    assert [f.name for f in files] == ["game_00000.sgf", "game_00001.sgf"]
    records = [read_sgf(f) for f in files]
    for record, path in zip(records, files, strict=True):
        assert record.info.board_size == 5 and record.info.komi == 7.5
        assert record.info.result[:2] in ("B+", "W+") or record.info.result == "0"
        assert len(sgf_to_examples(path, GAME)) == len(record.moves)
    assert records[0].moves != records[1].moves  # different random openings
    with pytest.raises(SystemExit):
        module.main(["--out", str(tmp_path / "other"), "--level", "11"])
    assert "--level must be 0..10, got 11" in capsys.readouterr().err
