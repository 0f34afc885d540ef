"""Files the suite writes and reads: atomic writes, and checkpoints that are data, never code.

People share agent files and checkpoints like model weights, so loading one must not run code.
Everything here is written with `torch.save` and read back with `torch.load(weights_only=True)`,
whose unpickler only builds tensors and plain values (dicts, lists, tuples, strings, numbers).
NumPy arrays, which that unpickler refuses, are stored as a small tagged dict of raw bytes, dtype
and shape (`to_data` / `from_data`); arrays of Python objects are refused on both sides.

Every write is atomic: a temporary file beside the target, fsync, rename, fsync of the folder,
so a crash or a full disk leaves either the old file or the new one, and no temporary file.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

NDARRAY_TAG = "__ndarray__"
COMPRESS_FROM_BYTES = 1 << 20  # arrays of 1 MiB or more are stored zlib-compressed


class FileError(Exception):
    """A file the suite was asked to read or write could not be; the message names the file."""


class UnsafeFileError(FileError):
    """The file holds Python objects (code on unpickling), not tensors and plain data."""


class CorruptFileError(FileError):
    """The file is truncated, empty or not in the format expected."""


# ---------------------------------------------------------------------- atomic writes


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one.

    On failure (a full disk, a missing folder) the temporary file is removed and a `FileError`
    naming `path` is raised; the previous file is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileError(f"could not write {path}: {exc.strerror or exc}") from exc
    _fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------- data trees


def to_data(tree: Any, where: str = "") -> Any:
    """`tree` with NumPy arrays and scalars turned into values `weights_only` loading accepts."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            name = where or "value"
            raise TypeError(f"{name}: an array of Python objects cannot be saved as data")
        raw = np.ascontiguousarray(tree).tobytes()
        compressed = len(raw) >= COMPRESS_FROM_BYTES
        return {
            NDARRAY_TAG: tree.dtype.str,
            "shape": list(tree.shape),
            "zlib": compressed,
            # None for an empty array: torch pickles b"" as a call that weights_only refuses
            "bytes": (zlib.compress(raw, 1) if compressed else raw) or None,
        }
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, Mapping):
        return {key: to_data(value, f"{where}.{key}" if where else str(key))
                for key, value in tree.items()}  # fmt: skip
    if isinstance(tree, list | tuple) and not hasattr(tree, "_fields"):
        items = [to_data(value, f"{where}[{i}]") for i, value in enumerate(tree)]
        return items if isinstance(tree, list) else tuple(items)
    return tree


def from_data(tree: Any) -> Any:
    """The inverse of `to_data`: tagged arrays back to NumPy arrays."""
    if isinstance(tree, Mapping):
        if NDARRAY_TAG in tree:
            return _array_from(tree)
        return {key: from_data(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [from_data(value) for value in tree]
    if isinstance(tree, tuple):
        return tuple(from_data(value) for value in tree)
    return tree


def _array_from(tagged: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(tagged[NDARRAY_TAG])
    if dtype.hasobject:  # the bytes would be read as object pointers
        raise ValueError("an array of Python objects is not data")
    raw = tagged["bytes"] or b""
    if tagged.get("zlib"):
        raw = zlib.decompress(raw)
    return np.frombuffer(raw, dtype=dtype).reshape(tagged["shape"]).copy()


# ---------------------------------------------------------------------- save and load


def dumps_data(tree: Any) -> bytes:
    """`tree` (tensors, arrays, plain values) as the bytes `save_data` writes."""
    import torch

    buffer = io.BytesIO()
    torch.save(to_data(tree), buffer)
    return buffer.getvalue()


def save_data(path: str | Path, tree: Any) -> None:
    """Atomically write a tree of tensors, arrays and plain values to `path`."""
    atomic_write_bytes(path, dumps_data(tree))


def load_data(path: str | Path) -> Any:
    """Read a file written by `save_data` (or any `torch.save` of tensors and plain values).

    Never runs code: a file holding pickled Python objects raises `UnsafeFileError`, a truncated
    or foreign one `CorruptFileError`, a missing one `FileError`; each message names the file.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():  # a foreign pickle protocol: refused below if unsafe
            warnings.simplefilter("ignore", UserWarning)
            tree = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).split("\n")[-1].strip() or type(exc).__name__
        if "Unsupported" in str(exc) or "global" in str(exc).lower():
            raise UnsafeFileError(
                f"{path}: refused to load: it holds Python objects, not tensors and plain data, "
                f"and loading it could run code ({_weights_only_reason(exc)})"
            ) from None
        raise CorruptFileError(f"{path}: not a readable checkpoint ({first})") from None
    except (EOFError, RuntimeError, ValueError, OSError, zlib.error, KeyError) as exc:
        raise CorruptFileError(
            f"{path}: truncated or not a checkpoint ({type(exc).__name__}: {_first_line(exc)})"
        ) from None
    try:
        return from_data(tree)
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise CorruptFileError(f"{path}: a stored array is malformed ({exc})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _weights_only_reason(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if "Unsupported" in line or "global" in line.lower():
            return line.strip().removeprefix("WeightsUnpickler error: ")
    return _first_line(exc)
