"""DQN's teacher start (replay buffer spiking): the teacher plays the first steps, then DQN."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents import agent_schemas
from agents.training import train
from rlcourse.config import ConfigError, parse_config

TEACHER = {"policy": f"{__name__}:PoleTeacher"}


class PoleTeacher:
    """CartPole: push the cart the way the pole leans (action 1 = right when the angle > 0)."""

    calls = 0

    def act(self, obs, info=None):
        PoleTeacher.calls += 1
        return int(obs[2] > 0)


def config(runs_dir, steps, teacher_start, env="CartPole-v1", num_envs=1, **agent):
    return parse_config(
        {
            "env": {"id": env},
            "agent": {
                "name": "dqn",
                "network": {"mlp": {"hidden": [16]}},
                "batch_size": 16,
                "buffer_size": 1000,
                "num_envs": num_envs,
                "epsilon": 1.0,  # uniformly random after the teacher
                "teacher_start": teacher_start,
                **agent,
            },
            "train": {"steps": steps, "eval_episodes": 1, "runs_dir": str(runs_dir)},
        },
        agent_schemas(),
        name="dqn_teacher_start",
    )


def teacher_agreement(agent):
    """The fraction of stored transitions whose action is the teacher's on their observation."""
    batch = agent.buffer.sample(len(agent.buffer))
    return float(np.mean(batch.actions == (batch.observations[:, 2] > 0)))


@pytest.mark.parametrize("num_envs", [1, 3])
def test_the_teacher_plays_exactly_the_first_steps(runs_dir, num_envs):
    PoleTeacher.calls = 0
    start = {"teacher": TEACHER, "steps": 120}
    no_updates = {"num_envs": num_envs, "learning_starts": 1000}
    only = train(config(runs_dir, 120, start, **no_updates), None, False)
    assert PoleTeacher.calls == 120
    assert teacher_agreement(only.agent) == 1.0
    PoleTeacher.calls = 0
    mixed = train(
        config(runs_dir, 360, start, num_envs=num_envs, learning_starts=1000), None, False
    )
    assert PoleTeacher.calls == 120  # then epsilon-greedy with epsilon 1: uniformly random
    # 120 teacher steps and 240 random ones, half of which happen to agree: 2/3 expected
    assert 0.5 < teacher_agreement(mixed.agent) < 0.9


def test_learning_updates_run_on_the_teachers_transitions(runs_dir):
    start = {"teacher": TEACHER, "steps": 200}
    result = train(config(runs_dir, 200, start, learning_starts=100, train_freq=4), None, False)
    assert result.agent.updates == (200 - 100) // 4 + 1  # updates at steps 100, 104, ..., 200
    assert teacher_agreement(result.agent) == 1.0


@pytest.mark.parametrize(
    ("teacher", "message"),
    [
        ({"planner": "value_iteration"}, "reads the true state"),
        ({"policy": "envs.dialogue:NoSuchPolicy"}, "module 'envs.dialogue' has no attribute"),
        ({"policy": "no_such_module:Policy"}, "cannot import module 'no_such_module'"),
        ({"policy": "envs.dialogue:belief_size"}, "has no class 'belief_size'"),
        ({"policy": "rule policy"}, "module:Class"),
        ({"rule": "envs.dialogue:RulePolicy"}, "{policy: 'module:Class'}"),
    ],
)
def test_bad_teachers_are_refused_with_the_key(runs_dir, teacher, message):
    with pytest.raises(ConfigError, match=r"agent\.teacher_start\.teacher") as caught:
        config(runs_dir, 10, {"teacher": teacher, "steps": 10})
    assert message in str(caught.value)


def test_the_teachers_share_falls_linearly_over_the_anneal():
    from agents.dqn.config import TeacherStart

    start = TeacherStart(teacher=TEACHER, steps=2, anneal=3)
    assert [start.share(t) for t in range(7)] == [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert TeacherStart(teacher=TEACHER, steps=2).share(2) == 0.0  # no anneal: a hard switch


def test_during_the_anneal_the_teacher_and_the_learner_share_the_steps(runs_dir):
    PoleTeacher.calls = 0
    start = {"teacher": TEACHER, "steps": 100, "anneal": 200}
    result = train(config(runs_dir, 400, start, learning_starts=1000), None, False)
    assert PoleTeacher.calls == 300  # asked while its share is above 0: steps 0..299
    # the teacher's steps: 100 + (200 * 0.5 expected in the anneal); half the rest agree
    assert 0.65 < teacher_agreement(result.agent) < 0.85


def test_margin_loss_keeps_the_teachers_choices_and_resumes_with_them(runs_dir):
    start = {"teacher": TEACHER, "steps": 150, "anneal": 100, "margin_weight": 1.0}
    cfg = config(runs_dir, 300, start, learning_starts=100, epsilon=0.0)
    agent = train(cfg, None, False).agent
    choices = agent.warm_start.choices
    assert 150 + 25 < choices.size < 150 + 75  # all of the first 150, about half of the anneal
    kept = choices.observations[: choices.size]
    assert np.array_equal(choices.actions[: choices.size], kept[:, 2] > 0)
    other = type(agent)(cfg.agent, agent.observation_space, gym.spaces.Discrete(2))
    other.load_state_dict(agent.state_dict())
    assert other.warm_start.choices.size == choices.size
    assert np.array_equal(other.warm_start.choices.observations[: choices.size], kept)


def test_the_warm_start_lets_the_teacher_act_and_adds_its_weighted_margin_loss():
    from agents.dqn.config import TeacherStart
    from agents.dqn.warm_start import WarmStart

    class FixedQ(torch.nn.Module):
        def forward(self, obs):
            return torch.tensor([1.0, 2.0]).expand(len(obs), 2)

        def expected(self, out):
            return out

    spec = TeacherStart(teacher=TEACHER, steps=4, margin=0.8, margin_weight=0.5)
    env = gym.make("CartPole-v1")
    start = WarmStart(spec, env.observation_space, 2, np.random.default_rng(0))
    start.begin(lambda: env, env_steps=0, with_masks=False)
    assert start.margin_loss(FixedQ(), 8) is None  # nothing kept yet
    leaning_left = np.array([[0.0, 0.0, -0.1, 0.0]] * 3, dtype=np.float32)
    learner = pytest.fail  # the teacher's share is 1: the learner is not asked
    assert start.actions(leaning_left, None, 0, learner).tolist() == [0, 0, 0]
    assert start.choices.size == 3
    # every kept choice is action 0: max(1, 2 + 0.8) - 1 = 1.8, weighted by 0.5
    assert float(start.margin_loss(FixedQ(), 8)) == pytest.approx(0.9)
