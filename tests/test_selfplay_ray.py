"""The self-play system on a local Ray cluster: a self-play actor killed mid-request is
restarted, its death counted once, and no finished game is lost or counted twice; a run that
ends counts every game its replay holds; a stopped run resumes. (A multi-node cluster, a
removed node and a killed head: tests/test_selfplay_faults.py.)"""

from __future__ import annotations

import os
import signal
import time

import pytest
import ray

from agents.alphazero.system import GameId, SelfPlaySystem
from rlcourse.runs import latest_checkpoint, load_state
from tests.test_selfplay import AGENT, experiment, train

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def on_ray(workers: int, games_per_call: int = 4) -> dict:
    distributed = {"workers": workers, "games_per_call": games_per_call, "max_restarts": 2}
    return {**AGENT, "distributed": distributed, "arena": {"every": 0}}


def test_a_killed_worker_loses_no_finished_game_and_counts_none_twice(tmp_path):
    system = SelfPlaySystem(experiment(tmp_path, 1, on_ray(1, 40)).agent, seed=0)
    try:
        # Starting the actors takes a minute or more on two busy cores: not timed.
        ray.get([system.replay.counts.remote(), system.actors[0].where.remote()])
        system._request()
        deadline = time.monotonic() + 300
        while ray.get(system.replay.counts.remote())["games"] < 2:  # the request is under way
            assert time.monotonic() < deadline, "no game finished within 5 minutes"
            time.sleep(0.05)
        ray.kill(system.actors[0], no_restart=False)
        taken = []
        deadline = time.monotonic() + 300
        while len(taken) < 50:
            assert time.monotonic() < deadline, f"{len(taken)} games in 5 minutes after the kill"
            taken += system.round(timeout=0.5).records
        taken += system.stop().records  # the worker plays on: the replay now keeps no game
        ids = ray.get(system.replay.game_ids.remote())
        counts = ray.get(system.replay.counts.remote())
        assert system.worker_deaths == 1 and system.deaths() == [1]  # one kill, counted once
        assert ids == [GameId(0, s) for s in range(len(ids))]  # no gap, no repeat
        assert counts["games"] == len(ids) == len(taken) and counts["duplicates"] == 0
    finally:
        system.shutdown()


@pytest.mark.slow  # its own actors (about 30 s on 2 busy cores)
def test_max_restarts_kills_are_survived_and_one_more_retires_the_worker(tmp_path):
    agent = on_ray(1, 8)
    agent["distributed"] |= {"max_restarts": 1}
    system = SelfPlaySystem(experiment(tmp_path, 1, agent).agent, seed=0)
    deadline = time.monotonic() + 300

    def play_until(done) -> None:
        while not done():
            assert time.monotonic() < deadline, "the worker did not come back in time"
            system.round(timeout=0.2)

    try:
        play_until(lambda: ray.get(system.replay.counts.remote())["games"] >= 2)
        os.kill(ray.get(system.actors[0].where.remote()).pid, signal.SIGKILL)
        games = ray.get(system.replay.counts.remote())["games"]
        play_until(lambda: ray.get(system.replay.counts.remote())["games"] >= games + 2)
        assert system.deaths() == [1] and system.worker_deaths == 1  # restarted, plays on
        os.kill(ray.get(system.actors[0].where.remote()).pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="every self-play actor died more than 1 times"):
            play_until(lambda: False)
        assert system.deaths() == [2] and system.worker_deaths == 2
    finally:
        system.shutdown()


@pytest.mark.slow  # its own actors (about 30 s on 2 busy cores)
def test_a_finished_run_counts_every_game_its_replay_holds(tmp_path):
    # The worker is still shipping games of its request when the run's budget is spent.
    agent, run = train(experiment(tmp_path, 4, on_ray(1, 200)))
    store = agent.system.replay.target
    assert run.episode == store.games == len(run.history) >= 4
    assert store.game_ids() == [GameId(0, s) for s in range(store.games)]
    state = load_state(latest_checkpoint(run.dir))
    assert state["episode"] == state["learner"]["replay"]["games"] == run.episode


@pytest.mark.slow  # two runs, each starting its actors (about 30 s on 2 cores)
def test_a_stopped_run_resumes_from_its_checkpoint(tmp_path):
    agent, first = train(experiment(tmp_path, 8, on_ray(1)))
    assert first.episode >= 8 and agent.system.replay.target.games == first.episode
    resumed, run = train(experiment(tmp_path, 16, on_ray(1)), resume=first.dir)
    store = resumed.system.replay.target
    assert run.episode == store.games >= 16
    assert store.game_ids() == [GameId(0, s) for s in range(store.games)]
    assert resumed.system.iterations >= agent.system.iterations + 2
