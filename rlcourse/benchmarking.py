"""What every ``scripts/bench_*.py`` shares: its command line, version line, table and JSON file.

A benchmark measures cases and returns them as ``{"<case>": {"ours": x, "<peer>": y, ...,
"ratio": r, "unit": "..."}}``, the ratio oriented so that bigger is better for us; other keys
(targets, notes) may join a case. ``--quick`` asks for a reduced run (for checking, not for
quoting) and ``--json FILE`` writes the results as they are.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from rlcourse.files import atomic_write_text

Results = dict[str, dict[str, Any]]
REQUIRED_KEYS = ("ours", "ratio", "unit")


def bench_parser(
    description: str | None, quick_help: str = "reduced run (about a minute)"
) -> argparse.ArgumentParser:
    """A parser with the two flags every benchmark takes, ``--quick`` and ``--json FILE``;
    a script with more options adds them to it."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return parser


def version_line(distributions: Iterable[str] = ()) -> str:
    """``python 3.11.9, numpy 2.4.6, x86_64``: the interpreter, the installed version of each
    distribution named (as pip names it; ``envpool not installed`` for a missing one), and
    the machine."""
    parts = [f"python {platform.python_version()}"]
    for name in distributions:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} not installed")
    return ", ".join([*parts, platform.machine()])


def import_peer(module: str, install: str) -> ModuleType | None:
    """The peer's module, or None after printing one line that says its rows are skipped and
    how to install it (``install``: what to give pip)."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        print(f"{module} cannot be imported ({err}): its rows are skipped (pip install {install})")
        return None


def taking_turns(
    measures: Mapping[str, Callable[[int], float]], rounds: int
) -> dict[str, list[float]]:
    """Every value of each measure over ``rounds`` rounds (a measure is called with the
    round's index); within a round the measures take turns, so that a change in machine load
    hits them alike."""
    values: dict[str, list[float]] = {name: [] for name in measures}
    for round_ in range(rounds):
        for name, measure in measures.items():
            values[name].append(measure(round_))
    return values


def spread(values: Sequence[float]) -> float:
    """``(max - min) / max`` of repeated measurements of a rate: 0 when they agree."""
    return (max(values) - min(values)) / max(values) if max(values) > 0 else 0.0


def print_rows(rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` as a table: each column as wide as its widest cell, a rule under the
    first row (the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def _plain_number(value: float, unit: str) -> str:
    return f"{value:,.4g}"


def print_table(
    results: Mapping[str, Mapping[str, Any]],
    ratio_note: str,
    *,
    number: Callable[[float, str], str] = _plain_number,
    target: Callable[[Mapping[str, Any]], float] | None = None,
    notes: Sequence[str] = (),
) -> None:
    """Print results one row per peer: case | ours | peer | peer value | ratio | unit, the
    case's own cells on its first row only.

    ``number(value, unit)`` writes ours and the peers' values. With ``target``, a last column
    ``target met`` says whether the case's ratio is at least ``target(case)``. Keys named in
    ``notes`` are no peers: the cases that have any of them get a line ``case: key value, ...``
    under the table. ``ratio_note`` comes last, after a blank line.
    """
    header = ("case", "ours", "peer", "peer value", "ratio", "unit")
    rows: list[tuple[str, ...]] = [header + (("target met",) if target else ())]
    not_peers = {*REQUIRED_KEYS, *notes}
    for case, r in results.items():
        unit = r["unit"]
        lead = (case, number(r["ours"], unit))
        tail: tuple[str, ...] = (f"{r['ratio']:.2f}", unit)
        if target is not None:
            tail += ("yes" if r["ratio"] >= target(r) else "NO",)
        peers = [key for key in r if key not in not_peers]
        for i, peer in enumerate(peers):
            first = i == 0
            rows.append((
                *(lead if first else ("",) * len(lead)), peer, number(r[peer], unit),
                *(tail if first else ("",) * len(tail)),
            ))  # fmt: skip
    print_rows(rows)
    for case, r in results.items():
        noted = ", ".join(
            f"{key} {r[key]:,}" if isinstance(r[key], int) else f"{key} {r[key]:.3g}"
            for key in notes
            if r.get(key) is not None
        )
        if noted:
            print(f"{case}: {noted}")
    print("\n" + ratio_note)


def check_results(results: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first case that is not a mapping with ours, ratio and unit."""
    for case, r in results.items():
        if not isinstance(r, Mapping):
            raise ValueError(f"benchmark case {case!r} is a {type(r).__name__}, not a mapping")
        missing = [key for key in REQUIRED_KEYS if key not in r]
        if missing:
            raise ValueError(
                f"benchmark case {case!r} lacks {', '.join(missing)} (every case needs "
                f"{', '.join(REQUIRED_KEYS)})"
            )


def write_json(results: Mapping[str, Any], path: str | Path) -> Path:
    """Write checked results (see :func:`check_results`) to ``path`` as indented JSON."""
    check_results(results)
    path = Path(path)
    atomic_write_text(path, json.dumps(results, indent=2) + "\n")
    return path


def bench_main(
    run: Callable[[bool], Results],
    show: Callable[[Results], None],
    *,
    description: str | None,
    versions: Iterable[str] = (),
    quick_help: str = "reduced run (about a minute)",
    argv: list[str] | None = None,
) -> int:
    """A benchmark script's ``main``: parse ``--quick``/``--json``, print the version line,
    ``run(quick)``, ``show`` the results, write them as JSON when asked; returns 0."""
    opts = bench_parser(description, quick_help).parse_args(argv)
    print(version_line(versions))
    results = run(opts.quick)
    show(results)
    if opts.json:
        write_json(results, opts.json)
        print(f"wrote {opts.json}")
    return 0
