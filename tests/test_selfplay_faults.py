"""What AlphaZero self-play survives: a checkpoint that is plain data, scripts that check the
config and every SGF record before they make a run directory, a self-play actor killed and a
worker node removed on a real multi-node Ray cluster, and a head (driver) killed mid-run and
resumed from its last checkpoint. Every finished game is in the replay exactly once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.system import GameId, SelfPlaySystem
from rlcourse.files import dumps_data, from_data
from rlcourse.runs import Run, latest_checkpoint, load_state
from tests.test_alphazero_pretrain import RECORDS, load_script, write_records
from tests.test_selfplay import AGENT, ROOT, experiment, go_env, train

GO5 = str(ROOT / "configs" / "go5" / "alphazero.yaml")
TINY = ["agent.network.filters=8", "agent.network.blocks=1", "agent.mcts.simulations=4",
        "agent.arena.every=0", "train.eval_episodes=1"]  # fmt: skip


def assert_every_game_once(ids: list, workers: int, counted: int) -> None:
    """Game ids contiguous from 0 per worker, none twice, as many as the run counted."""
    ids = [GameId(*g) for g in ids]
    assert len(ids) == len(set(ids)) == counted
    for w in range(workers):
        mine = sorted(s for worker, s in ids if worker == w)
        assert mine == list(range(len(mine))), f"worker {w}: ids {mine}"


# ----------------------------------------------------------------------------- plain data


def test_a_checkpoint_of_the_system_is_plain_data_that_loads_with_weights_only(tmp_path):
    config = experiment(tmp_path, 4).agent
    system = SelfPlaySystem(config, seed=0, workers=0)
    system.actors[0].play.remote(3)  # three games, none taken yet
    system.worker_deaths = 2
    state = system.state_dict()
    loaded = from_data(torch.load(io.BytesIO(dumps_data(state)), weights_only=True))
    again = SelfPlaySystem(config, seed=1, workers=0)
    again.load_state_dict(loaded)
    store, copy = system.replay.target, again.replay.target
    assert copy.game_ids() == store.game_ids() == [GameId(0, s) for s in range(3)]
    assert copy.counts() == store.counts() and again.worker_deaths == 2
    np.testing.assert_array_equal(copy.window.planes, store.window.planes)
    for mine, theirs in zip(store.take(), copy.take(), strict=True):  # untaken records
        assert mine.returns == theirs.returns and mine.resigned == theirs.resigned
        np.testing.assert_array_equal(mine.moves, theirs.moves)
    for a, b in zip(system.learner.target.net.state_dict().values(),
                    again.learner.target.net.state_dict().values(), strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0)


# ----------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("options", [[], ["--workers", "2"]])
def test_selfplay_names_another_agents_config_as_such(options, capsys):
    main = load_script("selfplay").main
    config = str(ROOT / "configs" / "cliff" / "q_learning.yaml")
    assert main([config, *options]) == 2
    err = capsys.readouterr().err
    assert "selfplay.py trains AlphaZero configs only" in err and "'q_learning'" in err
    assert "distributed" not in err


def bad_records(folder: Path) -> dict[str, list[str]]:
    """Pretrain overrides that each fail on a record: none found, malformed, another size."""
    write_records(folder / "good")
    write_records(folder / "malformed", {**RECORDS, "bad.sgf": "(;GM[1]SZ[5];B[cc"})
    write_records(folder / "seven", {**RECORDS, "big.sgf": "(;GM[1]FF[4]SZ[7]KM[7.5];B[dd])"})
    return {
        "missing": [f"agent.pretrain.sgf=[{folder / 'good'},{folder / 'none'}/*.sgf]"],
        "malformed": [f"agent.pretrain.sgf=[{folder / 'malformed'}]"],
        "other size": [f"agent.pretrain.sgf=[{folder / 'seven'}]"],
    }


@pytest.mark.parametrize("script", ["pretrain", "selfplay"])
def test_a_bad_record_or_config_leaves_no_run_directory(script, tmp_path, capsys):
    main = load_script(script).main
    runs = tmp_path / "runs"
    common = [GO5, f"train.runs_dir={runs}", "train.episodes=1", *TINY]
    extra = ["--workers", "0"] if script == "selfplay" else []
    for problem, overrides in bad_records(tmp_path / "games").items():
        assert main([*common, *overrides, *extra]) == 2, problem
        err = capsys.readouterr().err
        assert err.startswith("error:") and ("none" in err or ".sgf" in err), (problem, err)
        assert not runs.exists(), f"{problem}: a run directory was made"
    good = f"agent.pretrain.sgf=[{tmp_path / 'games' / 'good'}]"
    assert main([*common, good, "agent.network.filters=-1", *extra]) == 2
    assert "agent.network.filters" in capsys.readouterr().err and not runs.exists()


# ----------------------------------------------------------------------------- head node


def selfplay_process(args: list[str]) -> subprocess.Popen:
    """scripts/selfplay.py in a process group of its own (with whatever Ray starts)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "selfplay.py"), *args],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip


def kill_after_a_checkpoint(process: subprocess.Popen, runs: Path, timeout: float = 240) -> Path:
    """SIGKILL the process group once a checkpoint is written; returns the run directory."""
    deadline = time.monotonic() + timeout
    try:
        while not list(runs.glob("**/checkpoints/step_*.pt")):
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint in time"
            time.sleep(0.2)
        time.sleep(1.0)  # a little more self-play, lost with the head
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    (checkpoint,) = {p.parent.parent for p in runs.glob("**/checkpoints/step_*.pt")}
    return checkpoint


def check_resumed(run_dir: Path, games: int, workers: int) -> dict:
    state = load_state(latest_checkpoint(run_dir))
    replay = state["learner"]["replay"]
    assert state["episode"] >= games
    assert state["episode"] == replay["games"] == len(state["history"])
    assert_every_game_once(replay["seen"], workers, state["episode"])
    return state


class Crash(Exception):
    """The head going down (in this process)."""


def test_a_run_that_crashed_after_a_checkpoint_resumes_from_it(tmp_path, monkeypatch):
    config = experiment(tmp_path, 6, checkpoint_every=1)
    record_episode = Run.record_episode

    def crash_at_the_fifth_game(run: Run, *args, **kwargs) -> None:
        record_episode(run, *args, **kwargs)
        if run.episode == 5:  # after checkpoints; games since the last one are lost
            raise Crash

    monkeypatch.setattr(Run, "record_episode", crash_at_the_fifth_game)
    run = Run.create(config, progress=False)
    with pytest.raises(Crash), run:
        AlphaZeroAgent(config.agent, seed=0).learn(go_env, run)
    monkeypatch.undo()
    killed = load_state(latest_checkpoint(run.dir))
    assert 0 < killed["episode"] < 5  # the game that crashed it is not in the checkpoint
    agent, resumed = train(experiment(tmp_path, 6), resume=run.dir)
    store = agent.system.replay.target
    assert resumed.episode == store.games == len(resumed.history) >= 6
    assert_every_game_once(store.game_ids(), 1, resumed.episode)
    assert check_resumed(resumed.dir, 6, 1)["episode"] == resumed.episode


@pytest.mark.slow  # two processes that import torch (and start Ray): half a minute or more
@pytest.mark.parametrize("workers", [0, pytest.param(1, marks=pytest.mark.ray)])
def test_a_killed_head_resumes_from_its_last_checkpoint_with_every_count_consistent(
    workers, tmp_path
):
    runs = tmp_path / "runs"
    budget = ["train.checkpoint_every=40", "agent.distributed.games_per_call=4",
              "agent.selfplay.parallel_games=4", "agent.distributed.num_cpus=2"]  # fmt: skip
    args = [GO5, f"train.runs_dir={runs}", *TINY, *budget, "--no-progress"]
    process = selfplay_process([*args, "train.episodes=100000", "--workers", str(workers)])
    run_dir = kill_after_a_checkpoint(process, runs)
    killed = load_state(latest_checkpoint(run_dir))
    resumed = selfplay_process(["--resume", str(run_dir), f"train.episodes={killed['episode'] + 8}",
                                "--no-progress"])  # fmt: skip
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out.decode()[-3000:]
    state = check_resumed(run_dir, killed["episode"] + 8, max(workers, 1))
    assert (
        state["learner"]["replay"]["seen"][: len(killed["learner"]["replay"]["seen"])]
        == (killed["learner"]["replay"]["seen"])
    )  # the games before the crash are kept, and numbered on from


# ----------------------------------------------------------------------------- worker nodes

MB = 2**20


@pytest.mark.ray
@pytest.mark.slow  # a three-node cluster on two cores: about a minute
def test_a_killed_actor_and_a_removed_node_cost_unfinished_games_only(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    timings: dict[str, float] = {}
    start = time.monotonic()
    fast_health = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 0, "object_store_memory": 100 * MB, "include_dashboard": False,
        "_system_config": fast_health})  # fmt: skip
    nodes = [cluster.add_node(num_cpus=1, object_store_memory=100 * MB) for _ in range(2)]
    ray.init(address=cluster.address)
    cluster.wait_for_nodes()
    distributed = {"workers": 2, "games_per_call": 4, "max_restarts": 3}
    config = experiment(tmp_path, 1, {**AGENT, "distributed": distributed, "arena": {"every": 0}})
    system = SelfPlaySystem(config.agent, seed=0)
    taken = []

    def games_of(worker: int) -> int:
        return sum(g.worker == worker for g in ray.get(system.replay.game_ids.remote()))

    def play_until(done, what: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
            taken.extend(system.round(timeout=0.2).records)
        timings[what] = time.monotonic() - start

    try:
        where = ray.get([a.where.remote() for a in system.actors])
        timings["cluster up"] = time.monotonic() - start
        play_until(lambda: min(games_of(0), games_of(1)) >= 4, "both workers play")

        os.kill(where[0].pid, signal.SIGKILL)  # worker 0's process
        before = games_of(0)
        play_until(lambda: system.deaths()[0] == 1 and games_of(0) >= before + 4,
                   "worker 0 restarted and plays")  # fmt: skip

        (node,) = [n for n in nodes if n.node_id == where[1].node]
        cluster.remove_node(node, allow_graceful=False)  # worker 1 has nowhere to go
        before = [games_of(0), games_of(1)]

        def gone() -> bool:
            return any(n["NodeID"] == node.node_id and not n["Alive"] for n in ray.nodes())

        # (worker 1's process may finish a game or two before it notices its node is gone)
        play_until(lambda: gone() and games_of(0) >= before[0] + 8, "worker 0 plays on alone")

        new = cluster.add_node(num_cpus=1, object_store_memory=100 * MB)
        before = games_of(1)
        play_until(lambda: games_of(1) >= before + 4, "worker 1 restarts on the new node")
        assert ray.get(system.actors[1].where.remote()).node == new.node_id

        taken.extend(system.stop().records)
        ids = ray.get(system.replay.game_ids.remote())
        counts = ray.get(system.replay.counts.remote())
        assert system.deaths() == [1, 1] and system.worker_deaths == 2
        assert counts["duplicates"] == 0 and counts["games"] == len(taken)
        assert_every_game_once(ids, 2, len(taken))
        print(f"\ndeaths {system.deaths()}, games {counts['games']} (ids 0-{games_of(0) - 1} "
              f"of worker 0, 0-{games_of(1) - 1} of worker 1), positions {counts['positions']} "
              f"(window {counts['window']}), duplicates {counts['duplicates']}, seconds "
              f"{({k: round(v, 1) for k, v in timings.items()})}")  # fmt: skip
    finally:
        system.shutdown()
        ray.shutdown()
        cluster.shutdown()
