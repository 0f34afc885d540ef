"""The self-play system on a local Ray cluster: a self-play actor killed mid-request is
restarted and no finished game is lost or counted twice; a stopped run resumes."""

from __future__ import annotations

import time

import pytest
import ray

from agents.alphazero.system import GameId, SelfPlaySystem
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
        system._request()
        deadline = time.monotonic() + 60
        while ray.get(system.replay.counts.remote())["games"] < 2:  # the request is under way
            assert time.monotonic() < deadline, "no game finished within a minute"
            time.sleep(0.05)
        ray.kill(system.actors[0], no_restart=False)
        taken = []
        while len(taken) < 50:
            taken += system.round(timeout=0.5).records
        ids = ray.get(system.replay.game_ids.remote())
        counts = ray.get(system.replay.counts.remote())
        assert system.worker_failures >= 1  # the killed request failed, Ray restarted the actor
        assert ids == [GameId(0, s) for s in range(len(ids))]  # no gap, no repeat
        assert counts["games"] == len(ids) == len(taken) + len(ray.get(system.replay.take.remote()))
        assert counts["duplicates"] == 0
    finally:
        system.shutdown()


@pytest.mark.slow  # two runs, each starting its actors (about 30 s on 2 cores)
def test_a_stopped_run_resumes_from_its_checkpoint(tmp_path):
    agent, first = train(experiment(tmp_path, 8, on_ray(1)))
    assert first.episode >= 8 and agent.system.replay.target.games == first.episode
    resumed, run = train(experiment(tmp_path, 16, on_ray(1)), resume=first.dir)
    store = resumed.system.replay.target
    assert run.episode == store.games >= 16
    assert store.game_ids() == [GameId(0, s) for s in range(store.games)]
    assert resumed.system.iterations >= agent.system.iterations + 2
