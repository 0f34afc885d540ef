"""The shipped dialogue policy (agents/pretrained/dialogue) loads and does better than the tuned
rules where speech is noisy (scripts/bench_dialogue.py measures it on 1,000 dialogues)."""

from pathlib import Path

import torch

import envs  # noqa: F401  (registers the dialogue ids)
from agents.training import env_factory, load_agent
from envs.dialogue import InCarDialogueEnv, RulePolicy
from rlcourse.evaluation import evaluate

PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "pretrained" / "dialogue"


def test_the_shipped_policy_is_small_and_loads():
    assert sorted(p.name for p in PRETRAINED.iterdir()) == ["agent.ckpt", "config.yaml"]
    assert sum(p.stat().st_size for p in PRETRAINED.iterdir()) < 500_000  # [bytes]
    agent, config = load_agent(PRETRAINED)
    assert config.env.id == "rlcourse/InCarDialogue-v0"
    assert agent.act(*env_factory(config)().reset(seed=0), deterministic=True) in range(44)


def test_the_shipped_policy_beats_the_tuned_rules_at_30_percent_error():
    torch.set_num_threads(1)
    agent, config = load_agent(PRETRAINED)
    learned = evaluate(agent, env_factory(config, slot_error=0.3)(), 300, seed=0)
    rules = evaluate(RulePolicy(), InCarDialogueEnv(slot_error=0.3), 300, seed=0)
    # the same 300 dialogues; BENCHMARKS.md: a margin of MARGIN over 1,000 dialogues
    assert learned.mean > rules.mean + 1.0
    assert learned.metrics["success"] >= rules.metrics["success"] - 0.02
