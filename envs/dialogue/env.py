"""`InCarDialogueEnv`: an in-car voice assistant talking to a simulated driver."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from envs.dialogue.acts import ActionTable, SystemAct, UserAct
from envs.dialogue.belief import BeliefState, belief_size
from envs.dialogue.error_model import MAX_ERROR, ErrorModel, HeardAct
from envs.dialogue.goals import Goal
from envs.dialogue.nlg import NLG, text_observation
from envs.dialogue.ontology import Ontology, load_ontology
from envs.dialogue.user_models import UserSpec, make_user
from envs.dialogue.user_simulator import inform_precision_recall

OBS_TYPES = ("belief", "text")
SUCCESS_REWARD = 20.0
FAILURE_REWARD = -10.0
TURN_REWARD = -1.0


@dataclass(frozen=True)
class Turn:
    """One line of the transcript: who spoke, the words, the acts meant and, for the driver,
    what the system heard."""

    speaker: str  # "system" or "user"
    text: str
    acts: tuple[SystemAct | UserAct, ...]
    heard: tuple[HeardAct, ...] = field(default=())
    heard_text: str = ""


class InCarDialogueEnv(gym.Env):
    """The voice assistant of a car talks with a driver to get one or two tasks done.

    Each step is one exchange: the system says one dialogue act, the simulated driver
    (:mod:`envs.dialogue.user_simulator`) answers, and the answer reaches the system through a
    noisy speech/understanding front end (:mod:`envs.dialogue.error_model`) as n-best lists of
    hypotheses with calibrated confidences.

    ## The five elements
    - **State**: the driver's goal, agenda, patience left and what has been said
      (``env.user``, a :class:`~envs.dialogue.user_simulator.UserSimulator`) are hidden; the
      policy sees the system's belief about them (``env.belief``, a
      :class:`~envs.dialogue.belief.BeliefState`) or the words, so the task is a POMDP over
      the observation below.
    - **Action**: one system dialogue act (:class:`~envs.dialogue.acts.ActionTable`).
    - **Reward**: -1 a turn, +20 for success, -10 for failure (``reward_terms``, :meth:`step`).
    - **Transition**: :meth:`step`: the driver answers the act
      (:meth:`~envs.dialogue.user_simulator.UserSimulator.respond`), the front end hears the
      answer as n-best lists (:meth:`~envs.dialogue.error_model.ErrorModel.hear`) and the belief
      folds them in (:meth:`~envs.dialogue.belief.BeliefState.hear`).
    - **Discount**: none in the env (a dialogue ends within the driver's patience, at most 20
      turns by default); agents choose theirs (``gamma: 0.99`` in ``configs/dialogue/``).

    ## Action Space
    ``Discrete(A)`` over the system acts of :class:`~envs.dialogue.acts.ActionTable`: greet,
    request(slot) for each slot, confirm(slot), offer(slot) (the two best values to choose
    from), execute(intent) for each intent (with the believed value of every slot of the
    intent), repeat, bye. With the default ontology (12 slots, 5 intents) A = 44.
    ``info["action_mask"]`` marks the acts that make sense now (see
    :meth:`BeliefState.action_mask`); masked acts are still carried out, but waste a turn.

    ## Observation Space
    - ``"belief"``: ``Box(0, 1, (D,), float32)``, D = 125 with the default ontology: per slot
      the best and second-best hypothesis scores, whether the best is "don't care", whether it
      was confirmed, how often it was asked about [/3, clipped], whether the last act was about
      it, and the confidences heard about it in the last turn (its best hypothesis's and the sum
      of its others' in the n-best lists); per intent its score and whether it was executed; the
      turn count [/the most patience a driver can have]; the mean confidence of the best
      hypotheses heard so far (1 before any: how noisy the channel is in this dialogue); the
      confidence of each user act type just heard (0 if not heard); a one-hot of the last
      system act type.
      :func:`~envs.dialogue.belief.split_belief` names the parts.
    - ``"text"``: ``Box(0, V - 1, (text_length,), int64)``: token ids of
      ``<sys> system utterance <usr> recognised user utterance``, where each act the driver said
      appears as its n-best list: each hypothesis's words followed by its confidence marker
      ``<c0>``..``<c4>``, hypotheses joined by ``<or>``; padded with 0, cut at
      ``text_length``. ``env.vocabulary`` maps ids to words.

    ## Rewards
    ``turn`` = -1 every step, so shorter dialogues score higher; ``success`` = +20 on the last
    step when every goal intent was carried out with the wanted values; ``failure`` = -10 on the
    last step otherwise. +20 equals the default patience, so a success always returns at least
    0 and beats every failure (at most -11); a failure that drags on to the patience limit
    (-30) is worse than giving up at once (-11). ``info["rewards"]`` holds the three terms
    [reward units]; they sum to the reward.

    ## Starting State
    A goal drawn by :func:`~envs.dialogue.goals.sample_goal` (or ``options={"goal": Goal}``);
    the driver has spoken first: the intent and some slot values, or just hello.

    ## Episode End
    Termination: the system says bye, the driver reports a wrong execution, or the driver hangs
    up when its patience runs out: each dialogue's patience is drawn from the ``user``'s
    ``patience`` (default 12-20 [turns]); every turn costs 1 and a needless act (a repeat, a
    request for a value already told, ...: :mod:`envs.dialogue.user_simulator`)
    ``needless_cost`` (default 1) more, so it comes after ``patience`` turns at the latest. No
    truncation.

    ## Arguments
    - ``obs_type``: ``"belief"`` or ``"text"``.
    - ``slot_error``: probability that a slot act is lost or its best hypothesis is wrong
      [0-0.5]; or a range ``(low, high)``, from which each episode draws its rate uniformly (on
      the env's generator, at reset), so one policy learns to talk at several noise levels.
    - ``intent_error``: probability that an intent's or yes/no's best hypothesis is wrong
      [0-0.5]; None: the same as ``slot_error`` (the episode's rate when that is a range).
    - ``user``: the simulated driver: a name of
      :data:`~envs.dialogue.user_models.USER_MODELS` (``"agenda"``, the default, or
      ``"stochastic"``, which answers out of order, over-informs, is terse and switches
      intents: :mod:`envs.dialogue.stochastic_user`), a params object
      (:class:`UserParams`, :class:`StochasticUserParams`), or a mapping with an optional
      ``model`` and that model's fields (``patience`` [turns, or [low, high]],
      ``needless_cost`` [turns], ``p_change_mind``, ``p_initiative``, ``goal``, ...), e.g.
      ``{"model": "stochastic", "patience": [10, 16], "p_over_inform": 0.4}``.
    - ``success_reward``, ``failure_reward``, ``turn_reward``: the reward terms.
    - ``ontology``: a YAML path or :class:`Ontology` (default: the in-car domain).
    - ``text_length``: tokens in a text observation.
    - ``render_mode``: ``None``, ``"ansi"`` (the transcript), ``"rgb_array"`` or ``"human"``
      (a chat view).

    ``info`` holds ``action_mask``, ``rewards``, ``turns``, ``needless`` (the needless acts so
    far), and as judged so far ``success`` (1.0 when every goal intent is done and none went
    wrong), ``satisfaction`` (0 unless a success, else 0.5 + 0.5 * the share of the driver's
    patience left: :attr:`UserSimulator.satisfaction`), ``inform_precision`` and
    ``inform_recall`` (:func:`~envs.dialogue.user_simulator.inform_precision_recall`). With
    ``obs_type="text"`` it also holds ``belief``, the belief vector the system has built from
    what it heard (what a belief-state policy such as
    :class:`~envs.dialogue.rule_policy.RulePolicy` acts on, e.g. as a teacher of a text policy).

    ## Version History
    - v0: Initial version. Changed in place on 2026-12-07 (no outside users yet): n-best lists
      with calibrated confidences (belief 100 -> 125 features), drivers' patience drawn per
      dialogue with needless acts costing more, ``satisfaction``/``needless`` in ``info``, and
      the ``stochastic`` driver. Results and agent files from before do not carry over.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 2}  # noqa: RUF012

    def __init__(
        self,
        obs_type: str = "belief",
        slot_error: float | Sequence[float] = 0.05,
        intent_error: float | None = None,
        user: UserSpec = "agenda",
        success_reward: float = SUCCESS_REWARD,
        failure_reward: float = FAILURE_REWARD,
        turn_reward: float = TURN_REWARD,
        ontology: str | os.PathLike[str] | Ontology | None = None,
        text_length: int = 64,
        render_mode: str | None = None,
    ) -> None:
        check_choice("obs_type", obs_type, OBS_TYPES)
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        if text_length < 8:
            raise ValueError(f"text_length must be at least 8 tokens, got {text_length}")
        self.ontology = load_ontology(ontology)
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.text_length = text_length
        self.reward_terms = {
            "turn": float(turn_reward),
            "success": float(success_reward),
            "failure": float(failure_reward),
        }
        self.slot_error_range = _error_range(slot_error)
        low = self.slot_error_range[0]
        self._intent_error = intent_error
        self.error_model = ErrorModel(
            slot_error=low, intent_error=low if intent_error is None else intent_error
        )
        self.user = make_user(self.ontology, user)
        self.table = ActionTable(self.ontology)
        self.nlg = NLG(self.ontology)
        self.vocabulary = self.nlg.vocabulary()

        self.action_space = spaces.Discrete(len(self.table))
        if obs_type == "belief":
            size = belief_size(self.ontology)
            self.observation_space: spaces.Space[Any] = spaces.Box(
                0.0, 1.0, (size,), dtype=np.float32
            )
        else:
            self.observation_space = spaces.Box(
                0, len(self.vocabulary) - 1, (text_length,), dtype=np.int64
            )
        self.belief = BeliefState(self.ontology, self.user.params.patience_range[1])
        self.transcript: list[Turn] = []
        self._nlg_rng = np.random.default_rng(0)
        self._ended = True
        self._text = ""
        self._renderer: Any = None

    @property
    def goal(self) -> Goal:
        return self.user.goal

    # -------------------------------------------------------------------------- gym API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        goal = None
        if options:
            unknown = set(options) - {"goal"}
            if unknown:
                raise ValueError(f"unknown reset options {sorted(unknown)}; known: ['goal']")
            goal = options.get("goal")
            if goal is not None and not isinstance(goal, Goal):
                raise ValueError(f"options['goal'] must be a Goal, got {type(goal).__name__}")
        # words are drawn from their own stream, so text never shifts the dialogue's randomness
        self._nlg_rng = np.random.default_rng(int(self.np_random.integers(2**63)))
        low, high = self.slot_error_range
        if high > low:  # a fixed rate draws nothing, so its dialogues stay as they were
            rate = float(self.np_random.uniform(low, high))
            intent = rate if self._intent_error is None else self._intent_error
            self.error_model = dataclasses.replace(
                self.error_model, slot_error=rate, intent_error=intent
            )
        self.belief = BeliefState(self.ontology, self.user.params.patience_range[1])
        self.transcript = []
        opening = self.user.start(self.np_random, goal)
        self._ended = False
        self._hear(opening, system_text="")
        if self.render_mode == "human":
            self.render()
        return self._observe(), self._info(dict.fromkeys(self.reward_terms, 0.0))

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._ended:
            raise RuntimeError("the dialogue has ended; call reset() before step()")
        act = self.table[int(action)]
        values, offered = self.belief.shown(act)
        text = self.nlg.system_text(act, self._nlg_rng, values, offered)
        self.transcript.append(Turn("system", text, (act,)))
        self.belief.system_turn(act)
        answer = self.user.respond(act, self.np_random, values, offered)
        self._hear(answer, system_text=text)
        terminated = self.user.ended
        self._ended = terminated
        success = terminated and self.user.success
        rewards = {
            "turn": self.reward_terms["turn"],
            "success": self.reward_terms["success"] if success else 0.0,
            "failure": self.reward_terms["failure"] if terminated and not success else 0.0,
        }
        if self.render_mode == "human":
            self.render()
        return self._observe(), sum(rewards.values()), terminated, False, self._info(rewards)

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn(
                "render() called without a render_mode; pass render_mode= to gym.make "
                '("ansi", "rgb_array" or "human")'
            )
            return None
        from envs.dialogue.rendering import ChatRenderer, render_transcript

        if self.render_mode == "ansi":
            return render_transcript(self.transcript)
        if self._renderer is None:
            self._renderer = ChatRenderer(self.metadata["render_fps"])
        footer = [f"goal: {self.goal}"]
        if self._ended:
            footer.append("outcome: " + ("success" if self.user.success else "failure"))
        if self.render_mode == "rgb_array":
            return self._renderer.frame(self.transcript, self.belief, footer)
        self._renderer.show(self.transcript, self.belief, footer)
        return None

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # --------------------------------------------------------------------------- helpers

    def action_mask(self) -> np.ndarray:
        return self.belief.action_mask(self.table)

    def _hear(self, acts: list[UserAct], system_text: str) -> None:
        heard = self.error_model.hear(acts, self.ontology, self.np_random)
        self.belief.hear(heard)
        said = " ".join(self.nlg.user_text(a, self._nlg_rng) for a in acts)
        recognised = self.nlg.heard_text(heard, self._nlg_rng)
        if acts:
            self.transcript.append(Turn("user", said, tuple(acts), tuple(heard), recognised))
        self._text = text_observation(system_text, recognised)

    def _observe(self) -> np.ndarray:
        if self.obs_type == "belief":
            return self.belief.vector()
        return self.vocabulary.encode(self._text, self.text_length)

    def _info(self, rewards: dict[str, float]) -> dict[str, Any]:
        precision, recall = inform_precision_recall(self.user.goal, self.user.executions)
        info = {
            "action_mask": self.action_mask(),
            "rewards": rewards,
            "turns": self.belief.turn,
            "success": float(self.user.success),
            "satisfaction": self.user.satisfaction,
            "needless": float(self.user.needless),
            "inform_precision": precision,
            "inform_recall": recall,
        }
        if self.obs_type == "text":
            info["belief"] = self.belief.vector()
        return info


def _error_range(slot_error: float | Sequence[float]) -> tuple[float, float]:
    """`slot_error` as a range ``(low, high)`` of probabilities (a number: low == high)."""
    if isinstance(slot_error, Real):
        bounds = (float(slot_error), float(slot_error))
    elif isinstance(slot_error, Sequence) and not isinstance(slot_error, str):
        if len(slot_error) != 2 or not all(isinstance(p, Real) for p in slot_error):
            raise ValueError(f"slot_error must be a probability or [low, high], got {slot_error}")
        bounds = (float(slot_error[0]), float(slot_error[1]))
    else:
        raise ValueError(f"slot_error must be a probability or [low, high], got {slot_error!r}")
    low, high = bounds
    if not 0.0 <= low <= high <= MAX_ERROR:
        raise ValueError(
            f"slot_error must satisfy 0 <= low <= high <= {MAX_ERROR}, got {list(bounds)}"
        )
    return bounds
