"""An env's state as data: what a checkpoint keeps of envs stopped mid-episode.

`capture(env)` walks an env (a vector env, its sub-envs and their wrappers, and every plain
Python object they hold) and records its attributes as data: NumPy arrays and scalars, numbers,
strings, bytes, lists, tuples, dicts, sets, deques, enums, and `np.random.Generator`s as their
bit generator's state. Functions, classes, modules and dtypes are structure, not state: they are
left out and come from the fresh env. `restore(env, state)` writes the recorded values into a
freshly built env of the same config (same config => same structure), in place wherever the
fresh env already holds an object, list, dict or array of the same kind, so that aliases the env
made when it was built stay aliases.

Restoring never imports a class by a name read from the file and never calls a constructor:
an object that the fresh env lacks is made with ``object.__new__`` (or ``tuple.__new__`` for a
named tuple) of a class found in the fresh env itself (the class of one of its objects, or a
class defined in one of their modules), never one with a ``__del__`` of its own, and filled with
data, past any property. A class of the env may offer ``state_data()`` and the classmethod
``from_state_data(data)`` instead (state held in compiled code, such as a Go position). Random
generators are rebuilt from a short allow-list of NumPy bit generators.

What cannot be captured as data (a Box2D world, a pygame surface, the subprocesses of an
`AsyncVectorEnv`, any other object without plain attributes) makes `capture` return the reason
instead of a tree; a resumed run then starts new episodes and says why.
"""

from __future__ import annotations

import collections
import enum
import functools
import io
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np

KIND = "$"  # the key that tags an encoded node
SCALARS = (type(None), bool, int, float, str, bytes)
# Structure, not state: the fresh env's own values are kept.
STRUCTURE = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ModuleType,
    functools.partial,
    type,
    np.dtype,
    weakref.ref,
)
LEAVES = (*SCALARS, np.generic, np.ndarray, *STRUCTURE)
BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
    "MT19937": np.random.MT19937,
}
# Objects with plain attributes that are nevertheless handles on things outside this process.
HANDLES: tuple[tuple[type, str], ...] = (
    (gym.vector.AsyncVectorEnv, "its envs run in subprocesses"),
    (io.IOBase, "it holds an open file"),
    (threading.Thread, "it holds a thread"),
)
# Packages whose objects wrap state held in compiled code, out of reach of their attributes.
ENGINES = {"Box2D": "a Box2D physics world, whose bodies live in compiled code"}


class EnvStateError(Exception):
    """A recorded env state does not fit the env it is restored into."""


# ---------------------------------------------------------------------- capture


def capture(env: Any) -> dict[str, Any]:
    """``{"tree": ..., "unsaved": None}``, or ``{"tree": None, "unsaved": why}`` when part
    of the env cannot be recorded as data."""
    try:
        return {"tree": _Capture().node(env, "env"), "unsaved": None}
    except _Unsaved as exc:
        return {"tree": None, "unsaved": str(exc)}


class _Unsaved(Exception):
    pass


class _Capture:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}  # id(object) -> its number in the tree
        self.keep: list[Any] = []  # keeps captured objects alive so ids stay unique

    def node(self, value: Any, path: str) -> Any:
        if isinstance(value, enum.Enum):  # before numbers: an IntEnum is an int
            return {KIND: "enum", "class": _class_name(type(value)), "name": value.name}
        if type(value) in SCALARS:
            return value
        if isinstance(value, np.generic):
            return {KIND: "np", "v": np.array(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise _Unsaved(f"{path} is an array of Python objects")
            return value.copy()
        if isinstance(value, np.random.Generator):
            return {KIND: "rng", "state": value.bit_generator.state}
        if isinstance(value, STRUCTURE):
            return {KIND: "skip"}
        if id(value) in self.ids:
            return {KIND: "ref", "id": self.ids[id(value)]}
        number = len(self.ids)
        self.ids[id(value)] = number
        self.keep.append(value)
        if callable(getattr(value, "state_data", None)) and hasattr(value, "from_state_data"):
            data = self.node(value.state_data(), f"{path}.state_data()")
            return {KIND: "custom", "id": number, "class": _class_name(type(value)), "data": data}
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            items = [self.node(v, f"{path}.{f}") for f, v in zip(value._fields, value, strict=True)]
            return {KIND: "ntuple", "id": number, "class": _class_name(type(value)), "items": items}
        kind = _container_kind(value)
        if kind is not None:
            if kind in ("dict", "mappingproxy"):
                items = [
                    [self.node(k, f"{path} key"), self.node(v, f"{path}[{k!r}]")]
                    for k, v in value.items()
                ]
            else:
                items = [self.node(v, f"{path}[{i}]") for i, v in enumerate(value)]
            node = {KIND: kind, "id": number, "items": items}
            if kind == "deque":
                node["maxlen"] = value.maxlen
            return node
        for handle, why in HANDLES:
            if isinstance(value, handle):
                raise _Unsaved(f"{path} ({type(value).__name__}): {why}")
        package = getattr(type(value), "__module__", "").partition(".")[0]
        if package in ENGINES:
            raise _Unsaved(f"{path} ({_type_name(value)}) is {ENGINES[package]}")
        attributes = dict(_attributes(value))
        if not attributes and not hasattr(value, "__dict__"):
            raise _Unsaved(f"{path} is a {_type_name(value)}, which cannot be saved as data")
        return {
            KIND: "obj",
            "id": number,
            "class": _class_name(type(value)),
            "attrs": {name: self.node(v, f"{path}.{name}") for name, v in attributes.items()},
        }


def _container_kind(value: Any) -> str | None:
    if isinstance(value, collections.deque):
        return "deque"
    if isinstance(value, types.MappingProxyType):
        return "mappingproxy"
    for kind, cls in (("list", list), ("tuple", tuple), ("dict", dict), ("set", set),
                      ("frozenset", frozenset)):  # fmt: skip
        if isinstance(value, cls):
            return kind
    return None


def _attributes(obj: Any) -> Iterator[tuple[str, Any]]:
    """An object's instance attributes: its __dict__, then its filled __slots__."""
    yield from getattr(obj, "__dict__", {}).items()
    for name, slot in _slots(type(obj)).items():
        try:
            yield name, slot.__get__(obj, type(obj))
        except AttributeError:  # an empty slot
            continue


def _slots(cls: type) -> dict[str, Any]:
    found = {}
    for klass in reversed(cls.__mro__):
        for name in getattr(klass, "__dict__", {}).get("__slots__", ()) or ():
            slot = klass.__dict__.get(name)
            if isinstance(slot, types.MemberDescriptorType):
                found[name] = slot
    return found


def _type_name(value: Any) -> str:
    cls = type(value)
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls.__name__)}"


def _class_name(cls: type) -> list[str]:
    return [cls.__module__, cls.__qualname__]


# ---------------------------------------------------------------------- restore


def restore(env: Any, state: dict[str, Any]) -> None:
    """Write a state from `capture` into `env`, a freshly built env of the same config.

    Raises `EnvStateError` when the state names a class the fresh env does not use, or its
    structure differs (another number of sub-envs, another wrapper).
    """
    if state.get("tree") is None:
        raise EnvStateError(f"the env was not saved: {state.get('unsaved')}")
    try:
        _Restore(env).into(env, state["tree"], "env")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise EnvStateError(f"the saved env state is malformed ({why})") from None


class _Restore:
    def __init__(self, env: Any) -> None:
        self.done: dict[int, Any] = {}  # node number -> restored object
        self.classes = _classes_of(env)

    def into(self, current: Any, node: Any, path: str) -> Any:
        """The value `node` describes, written into `current` (what the fresh env holds
        there) when that is an object or container of the same kind."""
        if isinstance(node, np.ndarray):
            if (
                isinstance(current, np.ndarray)
                and current.shape == node.shape
                and current.dtype == node.dtype
                and current.flags.writeable
            ):
                current[...] = node
                return current
            return node
        if not isinstance(node, dict):
            return node
        kind = node[KIND]
        if kind == "skip":
            return current
        if kind == "ref":
            return self.done[node["id"]]
        if kind == "np":
            return node["v"][()]
        if kind == "rng":
            return _generator(current, node["state"], path)
        if kind == "enum":
            cls = self.cls(node["class"], path)
            if not issubclass(cls, enum.Enum):
                raise EnvStateError(f"{path}: {cls.__qualname__} is not an enum")
            return cls[node["name"]]
        if kind == "obj":
            return self.object(current, node, path)
        if kind == "custom":
            cls = self.cls(node["class"], path)
            rebuild = getattr(cls, "from_state_data", None)
            if not callable(rebuild):
                raise EnvStateError(f"{path}: {cls.__qualname__} cannot be rebuilt from data")
            value = rebuild(self.into(None, node["data"], path))
            self.done[node["id"]] = value
            return value
        if kind == "ntuple":
            cls = self.cls(node["class"], path)
            if not (issubclass(cls, tuple) and hasattr(cls, "_fields")) or _finalized(cls):
                raise EnvStateError(f"{path}: {cls.__qualname__} is not a named tuple")
            old = current if isinstance(current, cls) else ()
            items = self.items(old, node["items"], path)
            value = tuple.__new__(cls, items)
            self.done[node["id"]] = value
            return value
        return self.container(current, node, path)

    def items(self, current: Any, nodes: list[Any], path: str) -> list[Any]:
        old = list(current) if isinstance(current, list | tuple) else []
        if len(old) != len(nodes):
            old = [None] * len(nodes)
        pairs = enumerate(zip(old, nodes, strict=True))
        return [self.into(o, n, f"{path}[{i}]") for i, (o, n) in pairs]

    def container(self, current: Any, node: dict[str, Any], path: str) -> Any:
        kind, number = node[KIND], node["id"]
        if kind == "list":
            listed: list[Any] = current if type(current) is list else []
            self.done[number] = listed
            listed[:] = self.items(current, node["items"], path)
            return listed
        if kind == "dict":
            mapping: dict[Any, Any] = current if isinstance(current, dict) else {}
            self.done[number] = mapping
            entries = []
            for key_node, value_node in node["items"]:
                key = self.into(None, key_node, f"{path} key")
                old = mapping.get(key) if _hashable(key) else None
                entries.append((key, self.into(old, value_node, f"{path}[{key!r}]")))
            mapping.clear()
            mapping.update(entries)
            return mapping
        if kind == "deque":
            queue = current if isinstance(current, collections.deque) else None
            if queue is None or queue.maxlen != node["maxlen"]:
                queue = collections.deque(maxlen=node["maxlen"])
            self.done[number] = queue
            items = self.items(list(queue), node["items"], path)
            queue.clear()
            queue.extend(items)
            return queue
        if kind == "mappingproxy":
            pairs = [
                (self.into(None, k, f"{path} key"), self.into(None, v, path))
                for k, v in node["items"]
            ]
            proxy = types.MappingProxyType(dict(pairs))
            self.done[number] = proxy
            return proxy
        if kind in ("tuple", "set", "frozenset"):
            items = self.items(current if kind == "tuple" else None, node["items"], path)
            value = {"tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
            self.done[number] = value
            return value
        raise EnvStateError(f"{path}: unknown kind of value {kind!r}")

    def object(self, current: Any, node: dict[str, Any], path: str) -> Any:
        cls = self.cls(node["class"], path)
        if type(current) is cls:
            obj = current
        elif cls.__new__ is object.__new__ and not _finalized(cls):
            obj = object.__new__(cls)
        else:  # a __new__ or __del__ of its own would run code on data from the file
            raise EnvStateError(f"{path}: cannot make a {cls.__qualname__} without calling it")
        self.done[node["id"]] = obj
        slots = _slots(cls)
        has_dict = hasattr(obj, "__dict__")
        for name, value_node in node["attrs"].items():
            if not isinstance(name, str):
                raise EnvStateError(f"{path}: attribute name {name!r} is not a string")
            where = f"{path}.{name}"
            if name in slots:
                try:
                    old = slots[name].__get__(obj, cls)
                except AttributeError:
                    old = None
                slots[name].__set__(obj, self.into(old, value_node, where))
            elif has_dict:  # past any property or descriptor of the class
                obj.__dict__[name] = self.into(obj.__dict__.get(name), value_node, where)
            else:
                raise EnvStateError(f"{where}: {cls.__qualname__} has no such attribute")
        return obj

    def cls(self, name: list[str], path: str) -> type:
        module, qualname = name
        cls = self.classes.get((module, qualname))
        if cls is None:
            cls = _class_in(module, qualname, {m for m, _ in self.classes})
        if cls is None:
            raise EnvStateError(
                f"{path}: {module}.{qualname} is not a class of the freshly built env"
            )
        return cls


def _classes_of(env: Any) -> dict[tuple[str, str], type]:
    """The classes of every object the fresh env holds (what `restore` may instantiate)."""
    found: dict[tuple[str, str], type] = {}
    seen: set[int] = set()
    stack = [env]
    while stack:
        value = stack.pop()
        if isinstance(value, LEAVES) or id(value) in seen:
            continue
        seen.add(id(value))
        found.setdefault((type(value).__module__, type(value).__qualname__), type(value))
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset | collections.deque):
            stack.extend(value)
        elif not isinstance(value, np.random.Generator | enum.Enum):
            stack.extend(v for _, v in _attributes(value))
    return found


def _class_in(module: str, qualname: str, modules: set[str]) -> type | None:
    """The class `qualname` of `module`, if that module is one the fresh env's objects come
    from (and already imported); nothing is imported here."""
    if module not in modules or module == "builtins" or module not in sys.modules:
        return None
    value: Any = sys.modules[module]
    for part in qualname.split("."):
        if part.startswith("<"):
            return None
        value = getattr(value, part, None)
    if not isinstance(value, type) or value.__module__ != module:  # not one imported there
        return None
    return value


def _finalized(cls: type) -> bool:
    """Whether instances of `cls` run a __del__ of their own when collected."""
    return any("__del__" in vars(klass) for klass in cls.__mro__[:-1])


def _generator(current: Any, state: dict[str, Any], path: str) -> np.random.Generator:
    name = state.get("bit_generator")
    if isinstance(current, np.random.Generator) and type(current.bit_generator).__name__ == name:
        generator = current
    elif name in BIT_GENERATORS:
        generator = np.random.Generator(BIT_GENERATORS[name]())
    else:
        raise EnvStateError(f"{path}: unknown bit generator {name!r}")
    generator.bit_generator.state = state
    return generator


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
