"""Behaviour cloning: record a teacher's actions, then fit a policy network to them.

The `behaviour_cloning` agent plays demonstration episodes until the run's budget
(``train.episodes`` and/or ``train.steps``) is spent, recording every observation, the
teacher's action and the action mask if the env gives one (`demonstrations`). It then fits an
MLP or CNN policy (built from ``agent.network`` and the observation space, `network`) by
cross-entropy with `rlcourse.supervised.fit`, and acts by the argmax of its logits over the
legal actions (``deterministic=True``, as in evaluation) or by sampling their softmax.

``agent.teacher`` is a typed teacher spec (`agents.teachers`): ``{planner: value_iteration}``,
``{run: RUN_DIR}`` or ``{policy: "module:Class"}``, the last two optionally with ``input: KEY``
to act on ``info[KEY]`` instead of the observation (the dialogue's text env puts the belief
vector in ``info["belief"]`` for the rule policy, while the student reads the words).

With ``recurrent`` set the student is a recurrent policy (encoder, LSTM/GRU core, head, the
layout of a recurrent PPO/A2C policy, which can start from these weights with
``agent.init_from``): it is fitted on whole demonstrated episodes, padded to the longest
(`losses`), so the core learns what to remember, and it carries its state from step to step
when acting (``reset_state()`` before each episode).

A teacher only shows what to do in the states it visits. Three settings widen that:
``exploration`` > 0 executes a uniformly random legal action instead of the teacher's with that
probability, while the teacher's action is still what is recorded (noise injection, as in
DART, Laskey et al. 2017), so the student sees the states just off the teacher's path;
``start_states: uniform`` starts every episode in a uniformly drawn non-terminal state of the
env's model (exploring starts), so states the teacher never heads for are demonstrated too; and
``dagger_rounds`` = R > 0 (DAgger, Ross et al. 2011) splits ``train.episodes`` into R + 1 equal
shares: the teacher drives the first, then the student is fitted to everything recorded so far
and drives the next share itself, the teacher still labelling every step, so the student learns
to recover from its own mistakes; after the last share it is fitted once more.
"""

from agents.imitation.agent import BehaviourCloningAgent
from agents.imitation.config import BehaviourCloningConfig
from agents.imitation.demonstrations import (
    Demonstration,
    collect_demonstrations,
    non_terminal_states,
    pad_demonstrations,
    record_episode,
    stack_demonstrations,
)
from agents.imitation.losses import sequence_accuracy, sequence_cross_entropy
from agents.imitation.network import PolicyNetwork

__all__ = [
    "BehaviourCloningAgent",
    "BehaviourCloningConfig",
    "Demonstration",
    "PolicyNetwork",
    "collect_demonstrations",
    "non_terminal_states",
    "pad_demonstrations",
    "record_episode",
    "sequence_accuracy",
    "sequence_cross_entropy",
    "stack_demonstrations",
]
