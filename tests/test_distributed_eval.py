"""Distributed evaluation: episodes spread over Ray workers give the local evaluator's numbers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest
import ray

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from rlcourse import distributed
from rlcourse.distributed import evaluate_distributed, stderr_without
from rlcourse.evaluation import evaluate
from tests.run_dirs import only_run

pytestmark = pytest.mark.ray

# The workers cannot import this test module: ship its policy and wrapper by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

N_COLS = 4  # RussellNorvig4x3: state index = row * 4 + col


def up_the_left_then_right(obs, info):
    """A fixed policy: UP (0) in the left column, RIGHT (1) elsewhere."""
    return 0 if obs % N_COLS == 0 else 1


class Outcome(gym.Wrapper):
    """Puts ``success`` in the final info of episodes that terminate (not of cut ones)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated:
            info = {**info, "success": float(reward > 0)}
        return obs, reward, terminated, truncated, info


# Looked up here, and sent along with `make_env`: the workers need no registration of their own.
SPEC = gym.spec("rlcourse/RussellNorvig4x3-v0")


def make_env():
    return Outcome(gym.make(SPEC))


@pytest.mark.slow  # about 40 s: the script starts (and stops) a Ray cluster of its own
def test_evaluate_script_with_workers_matches_its_local_evaluation(runs_dir, tmp_path):
    """Runs before the module's cluster starts, so that the script's cluster is the only one."""
    root = Path(__file__).resolve().parent.parent
    config = root / "configs" / "rn4x3" / "value_iteration.yaml"
    train = [sys.executable, str(root / "scripts" / "train.py"), str(config),
             f"train.runs_dir={runs_dir}", "--no-progress"]  # fmt: skip
    subprocess.run(train, check=True, capture_output=True, cwd=root)
    run_dir = only_run(runs_dir)
    outputs = {}
    for workers in ("0", "2"):
        outputs[workers] = tmp_path / f"w{workers}.json"
        evaluate = [sys.executable, str(root / "scripts" / "evaluate.py"), str(run_dir),
                    "--episodes", "30", "--workers", workers,
                    "--json", str(outputs[workers])]  # fmt: skip
        subprocess.run(evaluate, check=True, capture_output=True, cwd=root)
    local, spread = (json.loads(outputs[w].read_text()) for w in ("0", "2"))
    assert spread == local and len(set(local["returns"])) > 1


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_same_seeds_give_the_local_evaluator_s_numbers(cluster, workers):
    # Slippery moves (0.8 intended, 0.1 each side) make every seed's episode different, and
    # episodes cut at 8 steps carry no `success`: the metric averages over the others.
    local = evaluate(up_the_left_then_right, make_env(), 25, seed=7, max_steps=8)
    spread = evaluate_distributed(
        up_the_left_then_right, make_env, 25, seed=7, max_steps=8, workers=workers
    )
    assert spread == local
    assert len(set(local.returns)) > 3 and local.metrics.keys() == {"success"}
    assert 0 < local.metrics["success"] < 1


def test_more_workers_than_episodes(cluster):
    local = evaluate(up_the_left_then_right, make_env(), 2, seed=0)
    assert evaluate_distributed(up_the_left_then_right, make_env, 2, workers=5) == local


def test_bad_arguments_and_no_cluster(monkeypatch):
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        evaluate_distributed(up_the_left_then_right, make_env, 5, workers=0)
    with pytest.raises(ValueError, match="episodes must be at least 1, got 0"):
        evaluate_distributed(up_the_left_then_right, make_env, 0)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(RuntimeError, match=r"no Ray cluster: call ray\.init\(\)"):
        evaluate_distributed(up_the_left_then_right, make_env, 5)


def test_one_block_of_episodes_is_played_in_seed_order():
    outcomes = distributed.play_episodes(up_the_left_then_right, make_env, [3, 4], max_steps=8)
    local = evaluate(up_the_left_then_right, make_env(), 2, seed=3, max_steps=8)
    assert [o.ret for o in outcomes] == local.returns
    assert [o.length for o in outcomes] == local.lengths


def test_stderr_without_drops_only_the_named_lines_and_keeps_them_when_the_block_raises(capfd):
    with pytest.raises(KeyError), stderr_without("object store and max_restarts"):
        os.write(2, b"[E core_worker.cc] has args in the object store and max_restarts > 0\n")
        os.write(2, b"kept: written to the descriptor\n")
        print("kept: written by Python", file=sys.stderr)
        raise KeyError("the block's own error still reaches the caller")
    kept = sorted(capfd.readouterr().err.splitlines())  # capfd takes Python's writes apart
    assert kept == ["kept: written by Python", "kept: written to the descriptor"]
