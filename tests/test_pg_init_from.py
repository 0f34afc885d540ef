"""PPO's agent.init_from: starting from a behaviour-cloned or a trained policy's weights."""

import shutil
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import envs  # noqa: F401  (registers the dialogue ids)
from agents.pg import PPOAgent
from agents.training import load_agent, load_experiment, train

ROOT = Path(__file__).resolve().parent.parent
BC = ROOT / "configs" / "dialogue" / "bc_text.yaml"
PPO = ROOT / "configs" / "dialogue" / "ppo_text_bc.yaml"
SMALL = ["network.text.hidden_size=16", "network.mlp.hidden=[16]", "recurrent.hidden_size=16"]
TINY_PPO = ["num_envs=2", "n_steps=16", "seq_len=16", "batch_size=16", "n_epochs=1"]


def trained(config, overrides, runs_dir):
    cfg = load_experiment(config, [*overrides, f"train.runs_dir={runs_dir}"])
    return train(cfg, progress=False).run_dir


@pytest.fixture(scope="module")
def cloned(tmp_path_factory):
    """A small recurrent text student of the rule policy (few dialogues, two epochs)."""
    runs = tmp_path_factory.mktemp("runs")
    fit = ["agent.fit.epochs=2", "agent.fit.patience=null", "agent.dagger_rounds=0"]
    budget = ["train.episodes=12", "train.eval_episodes=2"]
    return trained(BC, [f"agent.{o}" for o in SMALL] + fit + budget, runs)


def ppo_agent(init_from, extra=()):
    cfg = load_experiment(
        PPO, [f"agent.init_from={init_from}", *(f"agent.{o}" for o in [*SMALL, *TINY_PPO, *extra])]
    )
    env = gym.make(cfg.env.id, **cfg.env.kwargs)
    return PPOAgent(cfg.agent, env.observation_space, env.action_space, seed=0), env


def actions_in_dialogues(agent, env, seeds=range(4)):
    chosen = []
    for seed in seeds:
        agent.reset_state()
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            action = agent.act(obs, info, deterministic=True)
            chosen.append(action)
            obs, _, done, _, info = env.step(action)
    return chosen


def test_ppo_from_a_cloned_student_acts_like_it_with_a_fresh_critic(cloned):
    student, _ = load_agent(cloned)
    agent, env = ppo_agent(cloned)
    fresh, _ = ppo_agent("null")
    # nothing is read before the network is first needed
    assert torch.equal(agent.policy.core.rnn.weight_hh_l0, fresh.policy.core.rnn.weight_hh_l0)
    assert actions_in_dialogues(agent, env) == actions_in_dialogues(student, env)
    weights, own = agent.policy.state_dict(), student.network.state_dict()
    for key, value in own.items():
        mapped = {"encoder": "actor_encoder", "core": "core", "head": "actor"}[key.split(".")[0]]
        assert torch.equal(weights[mapped + key[key.index(".") :]], value), key
    for key, value in fresh.policy.critic.state_dict().items():
        assert torch.equal(agent.policy.critic.state_dict()[key], value)  # the critic is fresh


def test_ppo_from_a_trained_ppo_run_copies_every_tensor(cloned, tmp_path):
    first = trained(
        PPO,
        [f"agent.init_from={cloned}", *(f"agent.{o}" for o in SMALL + TINY_PPO),
         "train.steps=32", "train.eval_episodes=1"],
        tmp_path,
    )  # fmt: skip
    source, _ = load_agent(first)
    agent, _ = ppo_agent(first)
    agent.initialise_from(first)
    for key, value in source.policy.state_dict().items():
        assert torch.equal(agent.policy.state_dict()[key], value), key


def test_a_trained_run_loads_without_its_init_from_source(cloned, tmp_path):
    source = tmp_path / "clone"
    shutil.copytree(cloned, source)
    run_dir = trained(
        PPO,
        [f"agent.init_from={source}", *(f"agent.{o}" for o in SMALL + TINY_PPO),
         "train.steps=32", "train.eval_episodes=1"],
        tmp_path / "runs",
    )  # fmt: skip
    with_source, _ = load_agent(run_dir)
    shutil.rmtree(source)
    agent, config = load_agent(run_dir)
    assert config.agent.init_from == str(source)
    for key, value in with_source.policy.state_dict().items():
        assert torch.equal(agent.policy.state_dict()[key], value), key
    # the run's own weights act, whatever they learned: after 2 epochs of cloning and 32 PPO
    # steps, some seeds answer every dialogue with the same one action
    env = gym.make(config.env.id, **config.env.kwargs)
    assert actions_in_dialogues(agent, env) == actions_in_dialogues(with_source, env)


def test_mismatched_shapes_are_refused_naming_the_tensor(cloned):
    agent, env = ppo_agent(cloned, ["recurrent.hidden_size=24"])
    with pytest.raises(ValueError, match=r"core\.rnn\.weight_ih_l0 has shape \[64, 16\] there, "
                       r"\[96, 16\] here"):  # fmt: skip
        agent.act(env.reset(seed=0)[0], {})


def test_a_tensor_with_no_place_is_named(cloned):
    cfg = load_experiment(
        PPO,
        [f"agent.init_from={cloned}", "agent.recurrent=null",
         *(f"agent.{o}" for o in SMALL[:2] + TINY_PPO)],
    )  # fmt: skip
    env = gym.make(cfg.env.id, **cfg.env.kwargs)
    agent = PPOAgent(cfg.agent, env.observation_space, env.action_space, seed=0)
    with pytest.raises(ValueError, match=r"'core\.rnn\.weight_ih_l0' has no place in this network"):
        agent.initialise_from(cloned)


def test_a_missing_source_is_named(tmp_path):
    agent, env = ppo_agent(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        agent.act(env.reset(seed=0)[0], {})
