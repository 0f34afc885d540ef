#!/usr/bin/env python
"""Dialogue policies over simulated drivers: success rate, average turns and inform
precision/recall at 0%, 5% and 15% slot error.

Each policy plays the same N dialogues per error level (episode i reset with seed + i, so the
same goals): the rule-based baseline and every ``--checkpoint`` given. ``ours`` is the first
checkpoint (the rule policy when none is given); the ratio compares it with the rule policy,
oriented so that bigger is better (success and inform scores: ours / rule; turns: rule / ours).
Targets: success >= 0.95 at 5% error with fewer turns than the rule policy, >= 0.85 at 15%.

Usage: ``python scripts/bench_dialogue.py [--checkpoint RUN_DIR ...] [--episodes N] [--quick]
[--json FILE]``
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from rlcourse.benchmarking import bench_parser, print_rows, version_line, write_json
from rlcourse.evaluation import evaluate

ERROR_LEVELS = (0.0, 0.05, 0.15)
EPISODES, QUICK_EPISODES = 1_000, 200
SUCCESS_TARGETS = {0.05: 0.95, 0.15: 0.85}
METRICS = {  # info key -> (unit, bigger is better)
    "success": ("success rate", True),
    "turns": ("turns", False),
    "inform_precision": ("precision", True),
    "inform_recall": ("recall", True),
}
RULE = "rule"


def case_name(metric: str, error: float) -> str:
    return f"{metric}@{error:.0%}"


def policies(checkpoints: list[str]) -> dict[str, Callable[[float], tuple[Any, Any]]]:
    """Name (the rule policy's, then each checkpoint's config name) -> make(slot_error)
    returning (policy, env)."""
    from envs.dialogue import InCarDialogueEnv, RulePolicy  # importing envs registers the ids

    made: dict[str, Callable[[float], tuple[Any, Any]]] = {
        RULE: lambda e: (RulePolicy(), InCarDialogueEnv(slot_error=e))
    }
    for path in checkpoints:
        from agents.training import load_agent

        agent, config = load_agent(path)
        name = config.name if config.name not in made else f"{config.name} ({path})"
        made[name] = partial(_checkpoint_case, agent, config)
    return made


def _checkpoint_case(agent: Any, config: Any, slot_error: float) -> tuple[Any, Any]:
    from agents.training import env_factory

    return agent, env_factory(config, slot_error=slot_error)()


def run(
    episodes: int, checkpoints: list[str], seed: int = 0
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The cases, and the policy names with ours first."""
    made = policies(checkpoints)
    ours = RULE if not checkpoints else list(made)[1]
    results: dict[str, dict[str, Any]] = {}
    for error in ERROR_LEVELS:
        scores = {}
        for name, make in made.items():
            policy, env = make(error)
            scores[name] = evaluate(policy, env, episodes, seed=seed).metrics
            env.close()
        for metric, (unit, bigger_better) in METRICS.items():
            mine, rule = scores[ours][metric], scores[RULE][metric]
            ratio = (mine / rule if bigger_better else rule / mine) if mine and rule else 0.0
            case: dict[str, Any] = {"ours": mine}
            case.update({name: s[metric] for name, s in scores.items() if name != ours})
            case.update(ratio=ratio, unit=unit, episodes=episodes)
            if metric == "success" and error in SUCCESS_TARGETS:
                case["target"] = SUCCESS_TARGETS[error]
            results[case_name(metric, error)] = case
    return results, [ours] + [name for name in made if name != ours]


def show(results: dict[str, dict[str, Any]], names: list[str]) -> None:
    """One row per policy and error level (``names[0]`` is ours), then the targets."""
    first = results[case_name("success", ERROR_LEVELS[0])]
    ours = names[0]
    rows = [["policy", "slot error", "success", "avg turns", "inform P", "inform R"]]
    for name in names:
        for error in ERROR_LEVELS:
            cells = [name, f"{error:.0%}"]
            for metric in METRICS:
                case = results[case_name(metric, error)]
                value = case["ours"] if name == ours else case[name]
                cells.append(f"{value:.2f}" if metric == "turns" else f"{value:.3f}")
            rows.append(cells)
    print(f"{first['episodes']} dialogues per policy and error level")
    print_rows(rows)
    for error, target in SUCCESS_TARGETS.items():
        success = results[case_name("success", error)]
        turns = results[case_name("turns", error)]
        met = success["ours"] >= target and (ours == RULE or turns["ratio"] > 1)
        fewer = "" if ours == RULE else f", turns rule / ours {turns['ratio']:.2f} (> 1 wanted)"
        print(
            f"{ours} at {error:.0%} error: success {success['ours']:.3f} (target >= {target})"
            f"{fewer}: {'met' if met else 'NOT met'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, f"{QUICK_EPISODES} dialogues per case instead of {EPISODES}")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="RUN_DIR|FILE")
    parser.add_argument("--episodes", type=int, default=None, help="dialogues per case")
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i")
    opts = parser.parse_args(argv)
    episodes = opts.episodes or (QUICK_EPISODES if opts.quick else EPISODES)
    if episodes < 1:
        parser.error(f"--episodes must be at least 1, got {episodes}")
    print(version_line(("gymnasium", "numpy")))
    try:
        results, names = run(episodes, opts.checkpoint, opts.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    show(results, names)
    if opts.json:
        write_json(results, opts.json)
        print(f"wrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
