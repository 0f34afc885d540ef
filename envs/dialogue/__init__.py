"""The in-car dialogue domain; importing this registers the ids.

Registered ids: ``rlcourse/InCarDialogue-v0`` (belief-state observations) and
``rlcourse/InCarDialogueText-v0`` (token ids of the utterances).
"""

from __future__ import annotations

import gymnasium

from envs.dialogue.acts import ActionTable, SystemAct, SystemActType, UserAct, UserActType
from envs.dialogue.belief import BeliefState, BeliefView, belief_size, split_belief
from envs.dialogue.env import InCarDialogueEnv, Turn
from envs.dialogue.error_model import ErrorKind, ErrorModel, HeardAct
from envs.dialogue.goals import Goal, GoalParams, IntentGoal, sample_goal, sample_intent_goal
from envs.dialogue.nlg import NLG, Vocabulary, tokenize
from envs.dialogue.nlu import KeywordNLU
from envs.dialogue.ontology import DONT_CARE, Intent, Ontology, OntologyError, Slot, load_ontology
from envs.dialogue.rule_policy import RulePolicy
from envs.dialogue.stochastic_user import StochasticUserParams, StochasticUserSimulator
from envs.dialogue.user_models import USER_MODELS, UserModel, make_user
from envs.dialogue.user_simulator import (
    Execution,
    UserParams,
    UserSimulator,
    inform_precision_recall,
)

ENTRY_POINT = "envs.dialogue.env:InCarDialogueEnv"
REGISTERED = {
    "rlcourse/InCarDialogue-v0": {"obs_type": "belief"},
    "rlcourse/InCarDialogueText-v0": {"obs_type": "text"},
}

for _env_id, _kwargs in REGISTERED.items():
    if _env_id not in gymnasium.registry:
        gymnasium.register(id=_env_id, entry_point=ENTRY_POINT, kwargs=_kwargs)

__all__ = [
    "DONT_CARE",
    "NLG",
    "REGISTERED",
    "USER_MODELS",
    "ActionTable",
    "BeliefState",
    "BeliefView",
    "ErrorKind",
    "ErrorModel",
    "Execution",
    "Goal",
    "GoalParams",
    "HeardAct",
    "InCarDialogueEnv",
    "Intent",
    "IntentGoal",
    "KeywordNLU",
    "Ontology",
    "OntologyError",
    "RulePolicy",
    "Slot",
    "StochasticUserParams",
    "StochasticUserSimulator",
    "SystemAct",
    "SystemActType",
    "Turn",
    "UserAct",
    "UserActType",
    "UserModel",
    "UserParams",
    "UserSimulator",
    "Vocabulary",
    "belief_size",
    "inform_precision_recall",
    "load_ontology",
    "make_user",
    "sample_goal",
    "sample_intent_goal",
    "split_belief",
    "tokenize",
]
