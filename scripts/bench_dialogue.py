#!/usr/bin/env python
"""Dialogue policies against the tuned rules, on both simulated drivers, at 0/5/15/30% error.

Each policy plays the same N dialogues per simulator and error level (episode i reset with
seed + i, so the same goals and drivers): the hand-written rules (``envs.dialogue.RulePolicy``,
thresholds tuned by ``scripts/tune_dialogue_rules.py``) and the learned policy (the shipped
``agents/pretrained/dialogue`` unless ``--checkpoint`` names others; the first is "ours"). It
reports success (Wilson 95% interval), turns, satisfaction and return (Student-t 95% intervals).
The learned policy is trained on the agenda driver only; the stochastic driver is unseen.

Targets (ours against the rules): on the agenda driver, a higher mean return at 15% and 30%
error with non-overlapping 95% intervals, and a success rate at least the rules' at every level;
on the stochastic driver, success within 0.05 of the rules' or better.

Usage: ``python scripts/bench_dialogue.py [--checkpoint RUN_DIR ...] [--episodes N] [--quick]
[--json FILE]``
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlcourse.benchmarking import bench_parser, print_rows, version_line, write_json
from rlcourse.evaluation import evaluate, score_interval

ERROR_LEVELS = (0.0, 0.05, 0.15, 0.30)
USERS = ("agenda", "stochastic")  # trained on the first
EPISODES, QUICK_EPISODES = 1_000, 200
RETURN_TARGET_LEVELS = (0.15, 0.30)
UNSEEN_SUCCESS_MARGIN = 0.05
RULE = "rules (tuned)"
PRETRAINED = Path(__file__).resolve().parent.parent / "agents" / "pretrained" / "dialogue"
Make = Callable[[float, str], tuple[Any, Any]]  # (slot error, user) -> (policy, env)


def policies(checkpoints: list[str]) -> dict[str, Make]:
    """Name -> make(slot_error, user): the rules, then each checkpoint (ours first)."""
    from agents.training import env_factory, load_agent
    from envs.dialogue import InCarDialogueEnv, RulePolicy

    made: dict[str, Make] = {
        RULE: lambda e, u: (RulePolicy(), InCarDialogueEnv(slot_error=e, user=u))
    }
    for path in checkpoints:
        agent, config = load_agent(path)
        name = config.name if config.name not in made else f"{config.name} ({path})"

        def make(e: float, u: str, agent: Any = agent, config: Any = config) -> tuple[Any, Any]:
            return agent, env_factory(config, slot_error=e, user=u)()

        made[name] = make
    return made


def measure(policy: Any, env: Any, episodes: int, seed: int) -> dict[str, Any]:
    """Success, turns, satisfaction and return over ``episodes`` dialogues, each with its 95%
    interval (Wilson for the success rate, Student-t for the means)."""
    result = evaluate(policy, env, episodes, seed=seed)
    success = result.metrics["success"]
    out: dict[str, Any] = {"episodes": episodes, "success": success,
                           "success_ci": score_interval(success, episodes)}  # fmt: skip
    for key in ("turns", "satisfaction"):
        out[key] = result.metrics[key]
        out[f"{key}_ci"] = result.metric_interval(key)
    out["return"], out["return_ci"] = result.mean, (result.ci95_low, result.ci95_high)
    return out


def run(episodes: int, checkpoints: list[str], seed: int = 0) -> dict[str, dict[str, Any]]:
    """``{policy: {"user@error": measurements}}``, with a progress bar on a terminal."""
    import itertools

    from tqdm import tqdm

    made = policies(checkpoints)
    cases = list(itertools.product(made, USERS, ERROR_LEVELS))
    results: dict[str, dict[str, Any]] = {name: {} for name in made}
    for name, user, error in tqdm(cases, desc="dialogue cases", disable=not sys.stderr.isatty()):
        policy, env = made[name](error, user)
        results[name][case_name(user, error)] = measure(policy, env, episodes, seed)
        env.close()
    return results


def case_name(user: str, error: float) -> str:
    return f"{user}@{error:.0%}"


METRICS = {  # measurement -> (unit, bigger is better)
    "success": ("success rate", True),
    "turns": ("turns", False),
    "satisfaction": ("satisfaction [0-1]", True),
    "return": ("return", True),
}


def cases(results: dict[str, dict[str, Any]], ours: str) -> dict[str, dict[str, Any]]:
    """The common benchmark format: one case per ``metric@driver@error`` with ``ours`` (and its
    interval), every other policy's value, ``ratio`` (ours against the rules, bigger is better)
    and, where a target applies, ``target`` and ``met``."""
    out: dict[str, dict[str, Any]] = {}
    for key in results[RULE]:
        user, level = key.split("@")
        error = float(level.rstrip("%")) / 100
        for metric, (unit, bigger_better) in METRICS.items():
            mine, rule = results[ours][key], results[RULE][key]
            a, r = mine[metric], rule[metric]
            ratio = (a / r if bigger_better else r / a) if a > 0 and r > 0 else 0.0
            case: dict[str, Any] = {"ours": a, "ours_ci": mine[f"{metric}_ci"]}
            for name, other in results.items():
                if name != ours:
                    case[name] = other[key][metric]
                    case[f"{name}_ci"] = other[key][f"{metric}_ci"]
            case.update(ratio=ratio, unit=unit, episodes=mine["episodes"])
            target = None if ours == RULE else target_for(metric, user, error, mine, rule)
            if target is not None:
                case["target"], case["met"] = target
            out[f"{metric}@{key}"] = case
    return out


def target_for(
    metric: str, user: str, error: float, mine: dict[str, Any], rule: dict[str, Any]
) -> tuple[str, bool] | None:
    """(the target of the module docstring for this case, met?), or None."""
    if metric == "success" and user == "agenda":
        return "at least the rules'", mine["success"] >= rule["success"]
    if metric == "success":
        return (f"within {UNSEEN_SUCCESS_MARGIN} of the rules' or better",
                mine["success"] >= rule["success"] - UNSEEN_SUCCESS_MARGIN)  # fmt: skip
    if metric == "return" and user == "agenda" and error in RETURN_TARGET_LEVELS:
        return ("95% interval above the rules'",
                mine["return_ci"][0] > rule["return_ci"][1])  # fmt: skip
    return None


def fmt_ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def show(results: dict[str, dict[str, Any]], ours: str) -> None:
    rows = [["policy", "driver", "error", "success [95% CI]", "turns", "satisfaction",
             "return [95% CI]"]]  # fmt: skip
    for name, by_case in results.items():
        for user in USERS:
            for error in ERROR_LEVELS:
                c = by_case[case_name(user, error)]
                rows.append([
                    name, user, f"{error:.0%}",
                    f"{c['success']:.3f} [{c['success_ci'][0]:.3f}, {c['success_ci'][1]:.3f}]",
                    f"{c['turns']:.2f}", f"{c['satisfaction']:.3f}",
                    f"{c['return']:.2f} {fmt_ci(c['return_ci'])}",
                ])  # fmt: skip
    first = next(iter(results[ours].values()))
    print(f"{first['episodes']} dialogues per policy, driver and error level")
    print_rows(rows)
    for name, case in cases(results, ours).items():
        if "target" in case:
            print(f"{ours} {name}: {case['ours']:.3f}, rules {case[RULE]:.3f}: target "
                  f"{case['target']}: {'met' if case['met'] else 'NOT met'}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, f"{QUICK_EPISODES} dialogues per case instead of {EPISODES}")
    parser.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="RUN_DIR|FILE",
        help="learned policies (default: agents/pretrained/dialogue)",
    )
    parser.add_argument("--rules-only", action="store_true", help="measure the rules alone")
    parser.add_argument("--episodes", type=int, default=None, help="dialogues per case")
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i")
    opts = parser.parse_args(argv)
    episodes = opts.episodes or (QUICK_EPISODES if opts.quick else EPISODES)
    if episodes < 1:
        parser.error(f"--episodes must be at least 1, got {episodes}")
    checkpoints = [] if opts.rules_only else (opts.checkpoint or [str(PRETRAINED)])
    print(version_line(("gymnasium", "numpy", "torch")))
    try:
        results = run(episodes, checkpoints, opts.seed)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ours = list(results)[1] if checkpoints else RULE
    show(results, ours)
    if opts.json:
        write_json(cases(results, ours), opts.json)
        print(f"wrote {opts.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
