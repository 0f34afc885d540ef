"""Template natural-language generation for both sides, and the token vocabulary of the text.

Templates come from ``data/templates.yaml``; each utterance draws one variant at random. The
:class:`Vocabulary` holds every word the templates and the ontology can produce, so the text
observation never needs an unknown-word id for generated text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from envs.dialogue.acts import SystemAct, SystemActType, UserAct, UserActType
from envs.dialogue.error_model import HeardAct
from envs.dialogue.ontology import DATA_DIR, DONT_CARE, Ontology

DEFAULT_TEMPLATES = DATA_DIR / "templates.yaml"
PAD, UNK, SYSTEM_MARK, USER_MARK, OR_MARK = "<pad>", "<unk>", "<sys>", "<usr>", "<or>"
CONFIDENCE_BINS = 5  # a heard act is followed by <c0> .. <c4>: its confidence in fifths
_WORD = re.compile(r"[a-z0-9']+|<[a-z0-9]+>")
_FIELD = re.compile(r"\{(\w+)\}")


def tokenize(text: str) -> list[str]:
    """Lower-case words (apostrophes kept) and <markers>; punctuation dropped."""
    return _WORD.findall(text.lower())


def confidence_token(confidence: float) -> str:
    """``<c0>`` .. ``<c4>``: the confidence [0-1] in fifths."""
    return f"<c{min(int(confidence * CONFIDENCE_BINS), CONFIDENCE_BINS - 1)}>"


def text_observation(system_text: str, recognised: str) -> str:
    """The text a text-mode observation encodes: the system's words, then the driver's as
    recognised (see :meth:`NLG.heard_text`)."""
    return f"{SYSTEM_MARK} {system_text} {USER_MARK} {recognised}"


class Vocabulary:
    """Token <-> id; id 0 is padding, 1 unknown, then <sys>, <usr>, the confidence markers,
    <or> and the sorted words."""

    def __init__(self, words: Iterable[str]) -> None:
        specials = [PAD, UNK, SYSTEM_MARK, USER_MARK]
        specials += [f"<c{i}>" for i in range(CONFIDENCE_BINS)] + [OR_MARK]
        self.tokens: tuple[str, ...] = tuple(specials + sorted(set(words) - set(specials)))
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, length: int) -> np.ndarray:
        """[length] int64 ids of ``text``'s tokens, cut at ``length``, padded with 0."""
        ids = [self.ids.get(t, 1) for t in tokenize(text)][:length]
        out = np.zeros(length, dtype=np.int64)
        out[: len(ids)] = ids
        return out

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.tokens[i] for i in ids if i != 0)


class NLG:
    """Utterances for system and user acts from the templates, checked against the ontology."""

    def __init__(self, ontology: Ontology, templates: str | os.PathLike[str] | None = None) -> None:
        self.ontology = ontology
        file = Path(templates) if templates is not None else DEFAULT_TEMPLATES
        with file.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        self.source = str(file)
        self.system: dict[str, Any] = data["system"]
        self.user: dict[str, Any] = data["user"]
        self.default_value = str(data["default_value"])
        self._check()

    def _check(self) -> None:
        """Every act, intent and slot has templates; execute templates name only its slots."""
        plain_user = [
            t for t in UserActType if t not in (UserActType.INFORM_INTENT, UserActType.INFORM)
        ]
        needed = [("system", self.system, t.name.lower()) for t in SystemActType]
        needed += [("user", self.user, t.name.lower()) for t in plain_user]
        needed += [("user", self.user, "inform_intent"), ("user", self.user, "inform")]
        for side, table, key in needed:
            if not table.get(key):
                raise ValueError(f"{self.source}: {side}.{key} has no templates")
        for t in self.ontology.intents:
            if not self.system["execute"].get(t.name):
                raise ValueError(f"{self.source}: system.execute lacks intent {t.name!r}")
            if not self.user["inform_intent"].get(t.name):
                raise ValueError(f"{self.source}: user.inform_intent lacks intent {t.name!r}")
            for template in self.system["execute"][t.name]:
                unknown = set(_FIELD.findall(template)) - set(t.slots)
                if unknown:
                    raise ValueError(
                        f"{self.source}: execute template {template!r} names slots "
                        f"{sorted(unknown)} that {t.name!r} lacks"
                    )
        for s in self.ontology.slots:
            if not self.user["inform"].get(s.name):
                raise ValueError(f"{self.source}: user.inform lacks slot {s.name!r}")

    # ------------------------------------------------------------------------- realise

    def _value(self, value: str | None) -> str:
        return self.default_value if value in (None, DONT_CARE) else str(value)

    def system_text(
        self,
        act: SystemAct,
        rng: np.random.Generator,
        values: Mapping[str, str] | None = None,
        offered: Sequence[str] = (),
    ) -> str:
        """The system's utterance; ``values``/``offered`` as given to the driver."""
        values = values or {}
        kind = act.type.name.lower()
        if act.type == SystemActType.EXECUTE:
            assert act.intent is not None
            template = _choose(self.system["execute"][act.intent], rng)
            slots = self.ontology.intent(act.intent).slots
            return template.format(**{s: self._value(values.get(s)) for s in slots})
        template = _choose(self.system[kind], rng)
        if act.slot is None:
            return template
        first, second = [*offered, "", ""][:2]
        return template.format(
            slot=self.ontology.slot(act.slot).phrase,
            value=self._value(values.get(act.slot)),
            first=first,
            second=second,
        )

    def user_text(self, act: UserAct, rng: np.random.Generator) -> str:
        """One user act as words."""
        if act.type == UserActType.INFORM_INTENT:
            assert act.intent is not None
            return _choose(self.user["inform_intent"][act.intent], rng)
        if act.type == UserActType.INFORM:
            assert act.slot is not None
            return _choose(self.user["inform"][act.slot], rng).format(value=act.value)
        template = _choose(self.user[act.type.name.lower()], rng)
        slot = self.ontology.slot(act.slot).phrase if act.slot is not None else "setting"
        return template.format(slot=slot)

    def heard_text(self, heard: Sequence[HeardAct], rng: np.random.Generator) -> str:
        """What the system recognised, as words: each act's n-best list, its hypotheses
        joined by ``<or>``, each followed by its confidence marker."""
        return " ".join(
            f" {OR_MARK} ".join(
                f"{self.user_text(act, rng)} {confidence_token(c)}" for act, c in h.n_best
            )
            for h in heard
        )

    def vocabulary(self) -> Vocabulary:
        """Every word any template, slot phrase, intent phrase or value can produce."""
        texts: list[str] = [self.default_value]
        for table in (self.system, self.user):
            texts += _strings(table)
        for s in self.ontology.slots:
            texts += [s.phrase, *s.values]
        texts += [t.phrase for t in self.ontology.intents]
        words = {w for text in texts for w in tokenize(_FIELD.sub(" ", text))}
        return Vocabulary(words)


def _choose(options: Sequence[str], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, Mapping):
        return [s for v in node.values() for s in _strings(v)]
    return [s for v in node for s in _strings(v)]
