"""The self-play system in one process: game ids and deduplication, the agent contract, training
through a Run, exact resumption, and scripts/selfplay.py."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401
from agents import REGISTRY, agent_schemas
from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.system import (
    BackgroundHandle,
    GameId,
    LocalHandle,
    ReplayStore,
    SelfPlaySystem,
    fetch,
    finished,
)
from envs.go.rules import GoState
from rlcourse.config import parse_config
from rlcourse.plotting import read_scalars
from rlcourse.runs import Run, latest_checkpoint, load_state

ROOT = Path(__file__).resolve().parent.parent
AGENT = {
    "name": "alphazero",
    "game": {"name": "tictactoe"},
    "mcts": {"simulations": 8, "leaves_per_call": 4},
    "selfplay": {"parallel_games": 4, "resign_threshold": None},
    "network": {"filters": 8, "blocks": 1, "value_hidden": 8},
    "learner": {"batch_size": 8, "min_replay": 8, "games_per_iteration": 4,
                "steps_per_iteration": 2, "replay_window": 256},
    "arena": {"every": 2, "games": 2, "simulations": 4, "mcts_simulations": 8},
    "distributed": {"games_per_call": 4},
}  # fmt: skip


def experiment(tmp_path, games: int, agent=None, checkpoint_every: int = 10**6, **env_kwargs):
    env = {"id": "rlcourse/Go-v0", "kwargs": {"board_size": 5, **env_kwargs}}
    train = {"episodes": games, "runs_dir": str(tmp_path), "checkpoint_every": checkpoint_every}
    data = {"name": "az", "env": env, "agent": agent or AGENT, "train": train}
    return parse_config(data, agent_schemas(), "test")


def go_env():
    return gym.make("rlcourse/Go-v0", board_size=5)


def train(config, resume=None):
    agent = AlphaZeroAgent(config.agent, seed=config.train.seed)
    run = Run.open(resume, config, progress=False) if resume else Run.create(config, progress=False)
    with run:
        agent.learn(go_env, run)
    return agent, run


def test_the_agent_is_registered():
    assert REGISTRY["alphazero"] is AlphaZeroAgent


def test_replay_keeps_a_game_id_once_and_numbers_on(tmp_path):
    config = experiment(tmp_path, 4).agent
    system = SelfPlaySystem(config, seed=0, workers=0)
    system.actors[0].play.remote(3)
    store: ReplayStore = system.replay.target
    assert store.game_ids() == [GameId(0, 0), GameId(0, 1), GameId(0, 2)]
    assert store.next_sequence(0) == 3 and store.next_sequence(1) == 0
    again = store.take()[0]
    kept = store.add(GameId(0, 1), again._replace(planes=np.zeros((len(again.moves), 3, 3, 3))))
    assert not kept and store.counts()["games"] == 3 and store.counts()["duplicates"] == 1


def test_a_closed_replay_keeps_no_more_games_and_gives_back_every_untaken_one(tmp_path):
    system = SelfPlaySystem(experiment(tmp_path, 4).agent, seed=0, workers=0)
    system.actors[0].play.remote(3)
    store: ReplayStore = system.replay.target
    assert len(store.take()) == 3
    system.actors[0].play.remote(2)  # two games no round has taken
    store.close()  # what SelfPlaySystem.stop does on Ray, where workers play on meanwhile
    late = store.untaken[0]._replace(planes=np.zeros((len(store.untaken[0].moves), 3, 3, 3)))
    assert not store.add(GameId(0, 5), late) and store.counts()["duplicates"] == 0
    assert len(store.take()) == 2 and store.counts()["games"] == 5


def test_learn_counts_games_as_episodes_and_positions_as_steps(tmp_path):
    agent, run = train(experiment(tmp_path, 8))
    store = agent.system.replay.target
    assert run.episode == store.games == 8 and run.step == store.positions
    assert agent.system.iterations == 2  # 4 new games per training iteration
    state = load_state(latest_checkpoint(run.dir))
    assert state["episode"] == 8 and len(state["learner"]["replay"]["seen"]) == 8


def test_a_resumed_run_ends_where_an_unbroken_one_does(tmp_path):
    straight, _ = train(experiment(tmp_path / "a", 16))
    _, first = train(experiment(tmp_path / "b", 8))
    resumed, run = train(experiment(tmp_path / "b", 16), resume=first.dir)
    assert run.episode == 16 and resumed.system.iterations == straight.system.iterations
    for a, b in zip(straight.net.state_dict().values(), resumed.net.state_dict().values(),
                    strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_act_searches_a_state_and_reads_an_env_observation(tmp_path):
    go = {**AGENT, "game": {"name": "go", "board_size": 5, "history": 3}}
    env = go_env()
    agent = AlphaZeroAgent(experiment(tmp_path, 1, go).agent, env.observation_space,
                           env.action_space)  # fmt: skip
    obs, info = env.reset(seed=0)
    assert info["action_mask"][agent.act(obs, info, deterministic=True)]
    state = GoState.new(5).play(12)
    assert state.is_legal(agent.act(state, deterministic=True))


def test_an_env_that_does_not_fit_the_game_is_refused(tmp_path):
    env = go_env()
    with pytest.raises(ValueError, match=r"26 actions but the agent's game has 9"):
        AlphaZeroAgent(experiment(tmp_path, 1).agent, env.observation_space, env.action_space)


def test_save_and_from_file_give_the_same_network(tmp_path):
    agent = AlphaZeroAgent(experiment(tmp_path, 1).agent, seed=3)
    agent.save(tmp_path / "agent.ckpt")
    loaded = AlphaZeroAgent.from_file(tmp_path / "agent.ckpt")
    for a, b in zip(agent.net.state_dict().values(), loaded.net.state_dict().values(),
                    strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def load_selfplay_script():
    spec = importlib.util.spec_from_file_location(
        "script_selfplay", ROOT / "scripts" / "selfplay.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_selfplay_script_trains_and_resumes_in_one_process(tmp_path, capsys):
    main = load_selfplay_script()
    tiny = [f"train.runs_dir={tmp_path}", "train.episodes=4", "train.eval_episodes=2",
            "agent.mcts.simulations=4", "agent.arena.every=0", "agent.network.blocks=1",
            "agent.network.filters=8", "agent.distributed.games_per_call=4"]  # fmt: skip
    assert main([str(ROOT / "configs" / "go5" / "alphazero.yaml"), "--workers", "0",
                 "--no-progress", *tiny]) == 0  # fmt: skip
    run_dir = Path(capsys.readouterr().out.split("run directory: ")[1].split()[0])
    assert {"config.yaml", "agent.ckpt", "eval.json", "checkpoints"} <= set(os.listdir(run_dir))
    assert main(["--resume", str(run_dir), "train.episodes=8", "--no-progress"]) == 0
    assert load_state(latest_checkpoint(run_dir))["episode"] == 8


def test_selfplay_script_refuses_other_agents_and_an_address_without_workers(capsys):
    main = load_selfplay_script()
    assert main([str(ROOT / "configs" / "cliff" / "q_learning.yaml")]) == 2
    assert "selfplay.py trains AlphaZero configs only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(ROOT / "configs" / "go5" / "alphazero.yaml"), "--address", "auto"])
    assert "give --workers N" in capsys.readouterr().err


def test_the_network_device_is_checked_before_anything_runs(tmp_path):
    from agents.alphazero.network import torch_device

    config = experiment(tmp_path, 4, {**AGENT, "distributed": {"device": "auto"}})
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert torch_device(config.agent).type == expected
    with pytest.raises(Exception, match=r"distributed\.device"):
        experiment(tmp_path, 4, {**AGENT, "distributed": {"device": "tpu"}})
    if not torch.cuda.is_available():
        config = experiment(tmp_path, 4, {**AGENT, "distributed": {"device": "cuda"}})
        with pytest.raises(RuntimeError, match="cuda but torch sees no CUDA device"):
            SelfPlaySystem(config.agent)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_an_agent_file_trained_on_a_gpu_loads_on_the_cpu(tmp_path):
    agent = AlphaZeroAgent(experiment(tmp_path, 1).agent, seed=3)
    agent.save(tmp_path / "agent.ckpt")
    saved = torch.load(tmp_path / "agent.ckpt", weights_only=True)
    saved["config"]["distributed"]["device"] = "cuda"
    torch.save(saved, tmp_path / "gpu.ckpt")
    loaded = AlphaZeroAgent.from_file(tmp_path / "gpu.ckpt")
    assert loaded.config.distributed.device == "cpu"
    assert next(loaded.net.parameters()).device.type == "cpu"


class Recorder:
    """Calls recorded with the thread that made them; `wait` blocks until released."""

    def __init__(self):
        self.calls, self.release = [], threading.Event()

    def note(self, x):
        self.calls.append((x, threading.current_thread().name))
        return x * 2

    def wait(self):
        self.release.wait(timeout=10)
        return "released"

    def fail(self):
        raise KeyError("raised on the background thread")


def test_background_calls_run_in_order_on_their_thread_and_hand_back_errors():
    target = Recorder()
    handle = BackgroundHandle(target, "probe")
    assert not any(t.name == "probe" for t in threading.enumerate())  # none until a call
    blocked = handle.wait.remote()
    later = [handle.note.remote(i) for i in range(3)]
    assert not finished(blocked) and not any(finished(r) for r in later)  # queued behind it
    target.release.set()
    assert fetch(blocked) == "released" and [fetch(r) for r in later] == [0, 2, 4]
    assert target.calls == [(0, "probe"), (1, "probe"), (2, "probe")]
    with pytest.raises(KeyError, match="raised on the background thread"):
        fetch(handle.fail.remote())


def test_a_background_arena_changes_nothing_but_the_steps_its_scores_are_logged_at(tmp_path):
    held_back = {**AGENT, "arena": {**AGENT["arena"], "background": False}}
    held, held_run = train(experiment(tmp_path / "held", 16, held_back))
    beside, beside_run = train(experiment(tmp_path / "beside", 16))
    assert isinstance(held.system.arena, LocalHandle)
    assert isinstance(beside.system.arena, BackgroundHandle)
    for a, b in zip(held.net.state_dict().values(), beside.net.state_dict().values(),
                    strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for tag in ("arena/version", "arena/random/score", "arena/best/score"):
        _, held_values = read_scalars(held_run.dir, tag)
        _, beside_values = read_scalars(beside_run.dir, tag)
        assert beside_values.tolist() == held_values.tolist(), tag
    assert read_scalars(held_run.dir, "arena/version")[1].tolist() == [2.0, 4.0]


def test_arena_rounds_due_while_one_plays_start_once_it_ends_with_the_newest_network():
    config = parse_config(
        {"name": "az", "env": {"id": "rlcourse/TicTacToe-v0"}, "agent": AGENT,
         "train": {"episodes": 100}},
        agent_schemas(), "test",
    ).agent  # fmt: skip
    system = SelfPlaySystem(config, seed=0)
    release, versions = threading.Event(), []

    def slow_round(version, weights):
        versions.append(version)
        release.wait(timeout=30)
        return f"report of {version}"

    system.arena.target.evaluate = slow_round
    reports = []
    while system.iterations < 7:  # due at 2, 4 and 6: the first still plays
        reports += system.round(timeout=0.01).arena
    assert versions == [2] and len(system._arena_pending) == 1 and not reports
    release.set()
    while len(versions) < 2:
        reports += system.round(timeout=0.01).arena
    reports += system.finish_arena()
    assert reports == ["report of 2", f"report of {versions[1]}"] and versions[1] >= 7
    system.shutdown()
