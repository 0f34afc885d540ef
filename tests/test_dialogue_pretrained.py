"""The shipped dialogue policy (agents/pretrained/dialogue) loads and meets its success target."""

from pathlib import Path

import torch

import envs  # noqa: F401  (registers the dialogue ids)
from agents.training import env_factory, load_agent
from rlcourse.evaluation import evaluate

PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "pretrained" / "dialogue"


def test_the_shipped_policy_is_small_and_loads():
    assert sorted(p.name for p in PRETRAINED.iterdir()) == ["agent.ckpt", "config.yaml"]
    assert sum(p.stat().st_size for p in PRETRAINED.iterdir()) < 500_000  # [bytes]
    agent, config = load_agent(PRETRAINED)
    assert config.env.id == "rlcourse/InCarDialogue-v0"
    assert agent.act(*env_factory(config)().reset(seed=0), deterministic=True) in range(44)


def test_the_shipped_policy_succeeds_at_5_percent_slot_error():
    torch.set_num_threads(1)
    agent, config = load_agent(PRETRAINED)
    env = env_factory(config, slot_error=0.05)()
    result = evaluate(agent, env, 300, seed=0)
    assert result.metrics["success"] >= 0.95  # the rule policy: 0.995 at 5%
