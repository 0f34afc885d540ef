"""The sb3 backend: Stable-Baselines3 trained from our configs into our run directories."""

import importlib.util
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents import agent_schemas
from agents.backends import check_backend
from agents.training import EVAL_SEED, load_agent, load_experiment, resume_config, train
from rlcourse.config import ConfigError, parse_config
from rlcourse.evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent
SB3_CONFIG = ROOT / "configs" / "gridworld" / "sb3_ppo.yaml"
OURS_CONFIG = ROOT / "configs" / "gridworld" / "mc_on_policy.yaml"
SHORT = ["train.steps=1024", "train.checkpoint_every=512", "train.eval_every=512",
         "train.eval_episodes=10"]  # fmt: skip

torch.set_num_threads(1)


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def scalar_tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    return set(events.Tags()["scalars"])


@pytest.fixture(scope="module")
def sb3_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    config = load_experiment(SB3_CONFIG, [*SHORT, f"train.runs_dir={runs}"])
    return train(config, progress=False)


def test_an_sb3_run_and_one_of_ours_write_comparable_run_directories(sb3_run, runs_dir):
    ours = train(
        load_experiment(
            OURS_CONFIG,
            [
                "train.episodes=30",
                "train.checkpoint_every=100",
                "train.eval_every=100",
                f"train.runs_dir={runs_dir}",
            ],
        ),
        progress=False,
    )

    def layout(run_dir):
        names = {p.name for p in run_dir.iterdir() if not p.name.startswith("events.out")}
        checkpoints = {p.suffix or p.name for p in (run_dir / "checkpoints").iterdir()}
        return names, checkpoints

    assert (
        layout(sb3_run.run_dir)
        == layout(ours.run_dir)
        == (
            {"config.yaml", "checkpoints", "agent.ckpt", "eval.json", "best.ckpt", "best.json"},
            {"latest", ".pt"},
        )
    )
    sb3_eval = json.loads((sb3_run.run_dir / "eval.json").read_text())
    ours_eval = json.loads((ours.run_dir / "eval.json").read_text())
    assert sb3_eval.keys() == ours_eval.keys() and sb3_eval["episodes"] == 10
    shared = {"episode/return", "episode/length", "eval/return_mean", "eval/return_ci95_low"}
    assert shared <= scalar_tags(ours.run_dir)
    # SB3's own numbers land in the same events file, next to ours
    assert shared | {"train/value_loss", "rollout/ep_rew_mean"} <= scalar_tags(sb3_run.run_dir)
    latest = (sb3_run.run_dir / "checkpoints" / "latest").read_text()
    assert latest == "step_0000001024.pt"


def test_evaluate_script_reproduces_the_run_s_own_evaluation(sb3_run, tmp_path, capsys):
    out = tmp_path / "e.json"
    argv = [str(sb3_run.run_dir), "--episodes", "10", "--seed", str(EVAL_SEED),
            "--max-steps", "100", "--json", str(out)]  # fmt: skip
    assert script("evaluate")(argv) == 0
    again = json.loads(out.read_text())
    assert again["returns"] == sb3_run.evaluation.returns
    assert again["mean"] == sb3_run.evaluation.mean


def test_the_agent_file_is_an_sb3_zip_and_checkpoints_load(sb3_run):
    model = PPO.load(sb3_run.run_dir / "agent.ckpt", device="cpu")
    agent, config = load_agent(sb3_run.run_dir)
    assert config.backend.algo == "PPO"
    for state in range(16):
        action, _ = model.predict(state, deterministic=True)
        assert agent.act(state, {}, deterministic=True) == int(action)
    from_checkpoint, _ = load_agent(sb3_run.run_dir / "checkpoints" / "step_0000000512.pt")
    assert from_checkpoint.model.num_timesteps == 512


def test_same_seed_same_run(sb3_run, runs_dir):
    again = train(
        load_experiment(SB3_CONFIG, [*SHORT, f"train.runs_dir={runs_dir}"]), progress=False
    )
    assert again.evaluation.returns == sb3_run.evaluation.returns
    for a, b in zip(
        again.agent.model.policy.parameters(), sb3_run.agent.model.policy.parameters(), strict=True
    ):
        assert torch.equal(a, b)


def test_resume_carries_on_from_the_last_checkpoint(sb3_run, tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(sb3_run.run_dir, run_dir)
    config = resume_config(run_dir, ["train.steps=1536"])
    result = train(config, resume_dir=run_dir, progress=False)
    assert result.agent.model.num_timesteps == 1536
    assert (run_dir / "checkpoints" / "latest").read_text() == "step_0000001536.pt"


# ----------------------------------------------------------------------------- MaskablePPO


class MaskedCorridor(gym.Env):
    """Cells 0..4, start at 0; 0 LEFT, 1 RIGHT, 2 JUMP to the goal (legal only in cell 3).
    Taking an illegal action raises, so any unmasked choice fails the test."""

    LENGTH = 5

    def __init__(self):
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.LENGTH,), np.float32)
        self.action_space = gym.spaces.Discrete(3)
        self.position = 0

    def _obs_info(self):
        obs = np.zeros(self.LENGTH, np.float32)
        obs[self.position] = 1.0
        mask = np.array([self.position > 0, True, self.position == 3])
        return obs, {"action_mask": mask}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        return self._obs_info()

    def step(self, action):
        _, info = self._obs_info()
        if not info["action_mask"][action]:
            raise ValueError(f"illegal action {action} in cell {self.position}")
        self.position = self.LENGTH - 1 if action == 2 else self.position + (1 if action else -1)
        done = self.position == self.LENGTH - 1
        obs, info = self._obs_info()
        return obs, 10.0 if done else -1.0, done, False, info


if "tests/MaskedCorridor-v0" not in gym.registry:
    gym.register("tests/MaskedCorridor-v0", entry_point=MaskedCorridor, max_episode_steps=20)


def test_maskable_ppo_trains_and_acts_within_the_action_mask(runs_dir, tmp_path):
    config_file = tmp_path / "masked.yaml"
    config_file.write_text(
        "env: {id: tests/MaskedCorridor-v0}\n"
        "backend: {name: sb3, algo: MaskablePPO, hyperparameters: {n_steps: 64, batch_size: 32}}\n"
        f"train: {{steps: 256, eval_episodes: 5, eval_max_steps: 20, runs_dir: {runs_dir}}}\n"
    )
    result = train(load_experiment(config_file), progress=False)  # raises on an illegal action
    agent, _ = load_agent(result.run_dir)
    env = gym.make("tests/MaskedCorridor-v0")
    stochastic = evaluate(agent, env, 20, seed=0, deterministic=False)
    assert stochastic.episodes == 20  # sampled actions stayed legal too
    obs, _ = env.reset(seed=0)
    only_right = {"action_mask": np.array([False, True, False])}
    assert all(agent.act(obs, only_right, deterministic=d) == 1 for d in (True, False))


def test_a_short_sb3_run_ends_with_a_checkpoint_it_resumes_from(runs_dir, capsys):
    short = ["train.steps=256", "train.eval_episodes=2", f"train.runs_dir={runs_dir}"]
    result = train(load_experiment(SB3_CONFIG, short), progress=False)  # checkpoint_every 5k
    latest = (result.run_dir / "checkpoints" / "latest").read_text()  # PPO's whole rollouts
    assert latest == "step_0000000512.pt"
    capsys.readouterr()
    train(resume_config(result.run_dir), resume_dir=result.run_dir, progress=False)
    assert "from step 512 (step_0000000512.pt): already complete" in capsys.readouterr().out


# ----------------------------------------------------------------------------- off-policy


@pytest.mark.parametrize("algo", ["SAC", "TD3", "DDPG"])
def test_off_policy_algorithms_train_on_a_box_action_space(algo, runs_dir):
    def experiment(**hyperparameters):
        return parse_config(
            {
                "env": {"id": "Pendulum-v1"},
                "backend": {
                    "name": "sb3", "algo": algo, "policy_kwargs": {"net_arch": [16, 16]},
                    "hyperparameters": {"learning_starts": 50, "batch_size": 16,
                                        **hyperparameters},
                },
                "train": {"steps": 120, "checkpoint_every": 60, "eval_episodes": 1,
                          "runs_dir": str(runs_dir)},
            },
            agent_schemas(), name=f"sb3_{algo.lower()}",
        )  # fmt: skip

    result = train(experiment(), progress=False)
    assert result.agent.model.num_timesteps == 120
    agent, _ = load_agent(result.run_dir)  # the zip read without unpickling
    space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
    assert space.contains(agent.act(np.array([1.0, 0.0, 0.5], np.float32), deterministic=True))
    with pytest.raises(ConfigError, match=r"backend\.hyperparameters\.n_epochs"):
        check_backend(experiment(n_epochs=3), "test")
