#!/usr/bin/env python
"""Grid-search the dialogue rules' thresholds, so that learned policies meet the best rules.

Every combination of ``confirm_below`` (confirm or offer a slot whose best score is below it),
``offer_above`` (offer instead of confirming when the second score is above it) and
``max_requests`` (requests of a slot before giving up on it) plays the same N dialogues with the
agenda driver at the given slot error (default 15%), on seeds 100,000 + i so that the dialogues
differ from those ``scripts/bench_dialogue.py`` measures on. The best mean return wins; the
table shows the ten best with success and turns. The defaults of ``envs.dialogue.RulePolicy``
are the winner of ``python scripts/tune_dialogue_rules.py`` (1,000 dialogues, 15% error).

Usage: ``python scripts/tune_dialogue_rules.py [--error E] [--episodes N] [--json FILE]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Any

from rlcourse.benchmarking import print_rows
from rlcourse.evaluation import evaluate
from rlcourse.files import atomic_write_text

GRID = {
    "confirm_below": (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95),
    "offer_above": (0.1, 0.2, 0.3, 0.4, 0.5),
    "max_requests": (1, 2, 3),
}
SEED = 100_000


def candidates() -> list[dict[str, Any]]:
    """Every valid combination of the grid (``offer_above <= confirm_below``)."""
    combos = (dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values()))
    return [c for c in combos if c["offer_above"] <= c["confirm_below"]]


def score(thresholds: dict[str, Any], error: float, episodes: int) -> dict[str, Any]:
    from envs.dialogue import InCarDialogueEnv, RulePolicy

    result = evaluate(RulePolicy(**thresholds), InCarDialogueEnv(slot_error=error), episodes,
                      seed=SEED)  # fmt: skip
    return {**thresholds, "return": result.mean, "return_ci": (result.ci95_low, result.ci95_high),
            "success": result.metrics["success"], "turns": result.metrics["turns"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--error", type=float, default=0.15, help="slot error [0-0.5]")
    parser.add_argument("--episodes", type=int, default=1_000, help="dialogues per combination")
    parser.add_argument("--json", help="write every combination's scores here")
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar (default: none off a terminal)"
    )
    opts = parser.parse_args(argv)
    if opts.episodes < 1 or not 0.0 <= opts.error <= 0.5:
        parser.error("--episodes must be at least 1 and --error in [0, 0.5]")
    from tqdm import tqdm

    grid = candidates()
    bar = tqdm(grid, desc="rule thresholds", disable=opts.no_progress or not sys.stderr.isatty())
    scores = [score(c, opts.error, opts.episodes) for c in bar]
    scores.sort(key=lambda s: -s["return"])
    rows = [[*GRID, "return [95% CI]", "success", "turns"]]
    for s in scores[:10]:
        low, high = s["return_ci"]
        rows.append([*(str(s[k]) for k in GRID), f"{s['return']:.2f} [{low:.2f}, {high:.2f}]",
                     f"{s['success']:.3f}", f"{s['turns']:.2f}"])  # fmt: skip
    print(f"{len(grid)} combinations, {opts.episodes} dialogues each at {opts.error:.0%} error")
    print_rows(rows)
    best = {k: scores[0][k] for k in GRID}
    print(f"best: {best}")
    if opts.json:
        record = {"error": opts.error, "episodes": opts.episodes, "scores": scores}
        atomic_write_text(opts.json, json.dumps(record, indent=2) + "\n")
        print(f"wrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
