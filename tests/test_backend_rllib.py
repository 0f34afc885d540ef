"""The rllib backend: RLlib's PPO trained from our configs on a local 2-CPU Ray cluster."""

import importlib.util
import json
from pathlib import Path

import pytest
import ray
import torch

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.training import EVAL_SEED, load_agent, load_experiment, train
from rlcourse.distributed import captured_stderr

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "gridworld" / "rllib_ppo.yaml"
# Sutton & Barto (2018), Figure 4.1: the uniform random policy's values on the 4x4 gridworld;
# averaged over the 14 non-terminal start cells the expected return is -256/14 = -18.29.
RANDOM_POLICY_RETURN = -256 / 14
OPTIMAL_RETURN = -2.0  # mean shortest distance to a terminal corner, negated

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def rllib_run_and_stderr(cluster, tmp_path_factory):
    """The module's run, and what it wrote to file descriptor 2 (where Ray's C++ core writes)."""
    runs = tmp_path_factory.mktemp("runs")
    overrides = ["train.steps=2000", "train.checkpoint_every=1000", "train.eval_every=1000",
                 "train.eval_episodes=10", f"train.runs_dir={runs}"]  # fmt: skip
    with captured_stderr() as stderr:
        result = train(load_experiment(CONFIG, overrides), progress=False)
    return result, stderr.data.decode()


@pytest.fixture(scope="module")
def rllib_run(rllib_run_and_stderr):
    return rllib_run_and_stderr[0]


def test_starting_the_env_runners_writes_no_ray_false_alarm(rllib_run_and_stderr):
    # Ray's core reports config references held by RLlib as at risk on an env runner restart.
    assert "core_worker" not in rllib_run_and_stderr[1]


def scalar_tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


def test_an_rllib_run_writes_our_run_directory_with_rllib_checkpoints(rllib_run):
    run_dir = rllib_run.run_dir
    names = {p.name for p in run_dir.iterdir() if not p.name.startswith("events.out")}
    assert names == {"config.yaml", "checkpoints", "eval.json"}
    checkpoints = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert checkpoints == ["latest", "rllib_step_0000001000", "rllib_step_0000002000"]
    assert (run_dir / "checkpoints" / "latest").read_text() == "rllib_step_0000002000"
    assert (run_dir / "checkpoints" / "rllib_step_0000002000" / "rllib_checkpoint.json").is_file()
    assert {"episode/return", "eval/return_mean", "rllib/episode_return_mean"} <= scalar_tags(
        run_dir
    )
    assert json.loads((run_dir / "eval.json").read_text())["episodes"] == 10
    assert ray.is_initialized()  # the caller's cluster is left running for the caller to stop


def test_evaluate_script_loads_rllib_runs_and_checkpoints(rllib_run, tmp_path):
    spec = importlib.util.spec_from_file_location("script_evaluate", ROOT / "scripts/evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "e.json"
    argv = [
        str(rllib_run.run_dir),
        "--episodes",
        "10",
        "--seed",
        str(EVAL_SEED),
        "--max-steps",
        "100",  # the config's train.eval_max_steps
        "--json",
        str(out),
    ]
    assert module.main(argv) == 0
    assert json.loads(out.read_text())["returns"] == rllib_run.evaluation.returns
    policy, config = load_agent(rllib_run.run_dir / "checkpoints" / "rllib_step_0000001000")
    assert config.backend.name == "rllib"
    assert policy.act(5, {}, deterministic=True) in range(4)


def test_resume_is_refused_with_a_clear_message(tmp_path):
    config = load_experiment(CONFIG)
    with pytest.raises(ValueError, match="--resume is not supported with backend rllib"):
        train(config, resume_dir=tmp_path)


@pytest.mark.slow
def test_rllib_ppo_improves_the_return_on_a_gridworld(cluster, runs_dir):
    """10,000 steps take a greedy policy from the random policy's -18.3 to near the optimum."""
    result = train(load_experiment(CONFIG, [f"train.runs_dir={runs_dir}"]), progress=False)
    assert result.evaluation.mean > RANDOM_POLICY_RETURN + 12
    assert result.evaluation.mean <= OPTIMAL_RETURN
