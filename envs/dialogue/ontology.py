"""The domain: intents, their slots and the slots' values, loaded from a YAML data file.

The default file is ``envs/dialogue/data/ontology.yaml``. Slots and intents are kept in file
order, and their position is their index everywhere else (actions, belief vectors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_ONTOLOGY = DATA_DIR / "ontology.yaml"

DONT_CARE = "dontcare"
"""The value of a slot the driver leaves to the car (no constraint: any value is right)."""


class OntologyError(ValueError):
    """An ontology file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Slot:
    name: str
    phrase: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Intent:
    name: str
    phrase: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    keywords: tuple[str, ...] = ()

    @property
    def slots(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class Ontology:
    """Intents and slots in file order; ``slot_index``/``intent_index`` give their positions."""

    intents: tuple[Intent, ...]
    slots: tuple[Slot, ...]
    source: str = "<ontology>"

    def __post_init__(self) -> None:
        if not self.intents:
            raise OntologyError(f"{self.source}: no intents")
        known = {s.name for s in self.slots}
        owner: dict[str, str] = {}
        for intent in self.intents:
            if not intent.required:
                raise OntologyError(f"{self.source}: intent {intent.name!r} has no required slot")
            for slot in intent.slots:
                if slot not in known:
                    raise OntologyError(
                        f"{self.source}: intent {intent.name!r} names unknown slot {slot!r}"
                    )
                if slot in owner:
                    raise OntologyError(
                        f"{self.source}: slot {slot!r} belongs to both {owner[slot]!r} and "
                        f"{intent.name!r} (a slot belongs to one intent)"
                    )
                owner[slot] = intent.name
        for entry in self.slots:
            if entry.name not in owner:
                raise OntologyError(f"{self.source}: slot {entry.name!r} belongs to no intent")
            if len(entry.values) < 2 or len(set(entry.values)) != len(entry.values):
                raise OntologyError(
                    f"{self.source}: slot {entry.name!r} needs at least two distinct values"
                )
            if DONT_CARE in entry.values:
                raise OntologyError(f"{self.source}: slot {entry.name!r} lists {DONT_CARE!r}")

    @property
    def n_intents(self) -> int:
        return len(self.intents)

    @property
    def n_slots(self) -> int:
        return len(self.slots)

    @cached_property
    def slot_index(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self.slots)}

    @cached_property
    def intent_index(self) -> dict[str, int]:
        return {t.name: i for i, t in enumerate(self.intents)}

    @cached_property
    def slot_owner(self) -> dict[str, str]:
        """Slot name -> the name of the intent it belongs to."""
        return {slot: t.name for t in self.intents for slot in t.slots}

    def intent(self, name: str) -> Intent:
        try:
            return self.intents[self.intent_index[name]]
        except KeyError:
            raise KeyError(f"unknown intent {name!r}; known: {list(self.intent_index)}") from None

    def slot(self, name: str) -> Slot:
        try:
            return self.slots[self.slot_index[name]]
        except KeyError:
            raise KeyError(f"unknown slot {name!r}; known: {list(self.slot_index)}") from None


INTENT_KEYS = {"phrase", "required", "optional", "keywords"}


def _names(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise OntologyError(f"{where}: {key!r} must be a list of names")
    return tuple(value)


def parse_ontology(data: Any, source: str = "<ontology>") -> Ontology:
    """An :class:`Ontology` from the parsed YAML mapping ``{intents: ..., slots: ...}``."""
    if not isinstance(data, dict) or set(data) != {"intents", "slots"}:
        raise OntologyError(f"{source}: expected exactly the keys 'intents' and 'slots'")
    intents = []
    for name, entry in data["intents"].items():
        where = f"{source}: intent {name!r}"
        if not isinstance(entry, dict) or not set(entry) <= INTENT_KEYS:
            raise OntologyError(f"{where}: expected keys phrase, required, optional, keywords")
        intents.append(
            Intent(
                name=str(name),
                phrase=str(entry.get("phrase", name)),
                required=_names(entry, "required", where),
                optional=_names(entry, "optional", where),
                keywords=_names(entry, "keywords", where),
            )
        )
    slots = []
    for name, entry in data["slots"].items():
        where = f"{source}: slot {name!r}"
        if not isinstance(entry, dict) or not set(entry) <= {"phrase", "values"}:
            raise OntologyError(f"{where}: expected keys phrase, values")
        values = entry.get("values")
        if not isinstance(values, list):
            raise OntologyError(f"{where}: 'values' must be a list")
        slots.append(Slot(str(name), str(entry.get("phrase", name)), tuple(str(v) for v in values)))
    return Ontology(tuple(intents), tuple(slots), source)


def load_ontology(path: str | os.PathLike[str] | Ontology | None = None) -> Ontology:
    """The ontology in ``path`` (the default data file when None; an Ontology passes through)."""
    if isinstance(path, Ontology):
        return path
    file = Path(path) if path is not None else DEFAULT_ONTOLOGY
    if not file.is_file():
        raise OntologyError(f"{file}: no such ontology file")
    with file.open(encoding="utf-8") as f:
        return parse_ontology(yaml.safe_load(f), str(file))
