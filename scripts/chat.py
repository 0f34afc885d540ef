#!/usr/bin/env python
"""Talk to the in-car assistant as the driver: type what you want, one line per turn.

    python scripts/chat.py                          # the shipped trained policy
    python scripts/chat.py --checkpoint RUN_DIR     # another trained dialogue agent
    python scripts/chat.py --policy rules           # the rule-based policy
    printf 'take me to the airport\\nany route\\nthanks, that is all\\n' | python scripts/chat.py
    python scripts/chat.py --speech-error 0.15      # as heard over a noisy engine

Your words are understood by keyword matching (slot values, intent keywords, yes/no, "don't
care", "thanks", "that's all"), then pass through the speech front end of the simulated car at
``--speech-error`` (default 0: heard as typed): the line under each of yours shows what the car
heard, each act as its n-best list of hypotheses with their confidences. The car
speaks first after your first line; it ends the talk with a goodbye, after the driver's
patience in turns, or when the input ends (an empty line or "quit" also ends it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from rlcourse.cli import command

if TYPE_CHECKING:
    from envs.dialogue import InCarDialogueEnv

Act = Callable[[Any, Mapping[str, Any]], int]
PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "pretrained" / "dialogue"


class ChatSession:
    """The system side of a dialogue with a person: belief, policy and words, no simulator."""

    def __init__(
        self, env: InCarDialogueEnv, act: Act, seed: int = 0, speech_error: float = 0.0
    ) -> None:
        from envs.dialogue import BeliefState, ErrorModel
        from envs.dialogue.nlu import KeywordNLU

        self.env = env
        self.act = act
        self.nlu = KeywordNLU(env.ontology)
        self.belief = BeliefState(env.ontology, env.belief.patience)  # as the policy learnt
        self.rng = np.random.default_rng(seed)
        self.speech = ErrorModel(slot_error=speech_error, intent_error=speech_error)
        self.system_text = ""
        self.ended = False

    def turn(self, line: str) -> list[str]:
        """Hear one line of the driver and answer; returns the lines to print."""
        from envs.dialogue import SystemActType
        from envs.dialogue.nlg import text_observation
        from envs.dialogue.rendering import format_n_best

        said = self.nlu.parse(line, self.belief.last_system, self.belief.active_intent())
        heard = self.speech.hear([h.act for h in said], self.env.ontology, self.rng)
        self.belief.hear(heard)
        out = [f"  (heard: {'; '.join(format_n_best(h) for h in heard) or 'nothing'})"]
        mask = self.belief.action_mask(self.env.table)
        if self.env.obs_type == "belief":
            obs = self.belief.vector()
        else:
            recognised = self.env.nlg.heard_text(heard, self.rng)
            text = text_observation(self.system_text, recognised)
            obs = self.env.vocabulary.encode(text, self.env.text_length)
        act = self.env.table[int(self.act(obs, {"action_mask": mask}))]
        values, offered = self.belief.shown(act)
        self.system_text = self.env.nlg.system_text(act, self.rng, values, offered)
        self.belief.system_turn(act)
        out.append(f"Car: {self.system_text}")
        if act.type == SystemActType.EXECUTE:
            done = ", ".join(f"{slot}={value}" for slot, value in values.items())
            out.append(f"  [car carries out {act.intent}: {done}]")
        if act.type == SystemActType.BYE or self.belief.turn >= self.belief.patience:
            self.ended = True
        return out


def policy_for(checkpoint: str | None) -> tuple[InCarDialogueEnv, Act, str]:
    """(env the policy was made for, its act function, its name)."""
    from envs.dialogue import InCarDialogueEnv, RulePolicy

    if checkpoint is None:
        env = InCarDialogueEnv()
        return env, RulePolicy(env.ontology).act, "rule-based policy"
    from agents.training import env_factory, load_agent

    agent, config = load_agent(checkpoint)
    made = env_factory(config)().unwrapped
    if not isinstance(made, InCarDialogueEnv):
        raise ValueError(f"{checkpoint} was trained on {config.env.id}, not the dialogue env")

    def act(obs: Any, info: Mapping[str, Any]) -> int:
        return int(agent.act(obs, info, deterministic=True))

    return made, act, f"{config.name} ({checkpoint})"


def chat(session: ChatSession, lines: TextIO, echo: bool) -> None:
    print("Car: I'm listening. What can I do for you?")
    while not session.ended:
        if not echo:
            print("You: ", end="", flush=True)
        line = lines.readline()
        if not line or line.strip().lower() in ("", "quit", "exit"):
            break
        if echo:
            print(f"You: {line.strip()}")
        for out in session.turn(line):
            print(out)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--policy",
        choices=("trained", "rules"),
        default="trained",
        help="trained: the --checkpoint agent; rules: the rule-based policy",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="RUN_DIR|CHECKPOINT",
        help=f"the trained agent (default: {PRETRAINED.relative_to(PRETRAINED.parents[2])})",
    )
    parser.add_argument(
        "--speech-error",
        type=float,
        default=0.0,
        help="the car's speech front end: chance [0-0.5] that an act is misheard (0: as typed)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the words and the noise")
    opts = parser.parse_args(argv)
    if not 0.0 <= opts.speech_error <= 0.5:
        parser.error(f"--speech-error must be in [0, 0.5], got {opts.speech_error}")
    if opts.policy == "rules" and opts.checkpoint:
        parser.error("--checkpoint goes with --policy trained, not --policy rules")
    checkpoint = None if opts.policy == "rules" else opts.checkpoint or str(PRETRAINED)
    try:
        env, act, name = policy_for(checkpoint)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"(talking to the {name}; an empty line or 'quit' ends)")
    session = ChatSession(env, act, opts.seed, opts.speech_error)
    chat(session, sys.stdin, echo=not sys.stdin.isatty())
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
