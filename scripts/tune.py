#!/usr/bin/env python
"""Sweep a config's hyper-parameters with Ray Tune and ASHA early stopping.

    python scripts/tune.py configs/cliff/q_learning.yaml \\
        --search agent.alpha=loguniform(0.05,1.0) --search agent.gamma=choice(0.9,0.99,1.0) \\
        --samples 16 [--address auto] [key=value ...]

Each trial trains the config (any backend) with one sampled value per `--search` key and
reports our periodic evaluation every `train.eval_every` env steps (a quarter of
`train.steps` when the config sets none); ASHA stops the trials that trail at each report.
A trial takes one CPU, and one more per env runner with the rllib backend.
The sweep folder (``runs/tune/<config name>/<timestamp>/`` unless `--out` says otherwise)
receives results.csv (one row per trial, best first), trials/ (each trial's run directory)
and best.yaml: the whole config of the best trial that ran its full budget, which
``scripts/train.py best.yaml`` trains.

Search domains (`KEY=DOMAIN`, KEY a dotted config key):
    uniform(LOW, HIGH)      a float drawn uniformly from [LOW, HIGH]
    loguniform(LOW, HIGH)   a float whose logarithm is uniform (0 < LOW < HIGH)
    randint(LOW, HIGH)      an integer LOW <= x < HIGH
    choice(A, B, ...)       one of the values (numbers, strings, true/false)
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rlcourse.benchmarking import print_rows
from rlcourse.cli import command

METRIC = "return_mean"  # our evaluator's mean return, maximised
DOMAINS = ("uniform", "loguniform", "randint", "choice")


class SearchError(ValueError):
    """A `--search` argument that does not follow the grammar."""


@dataclass(frozen=True)
class Domain:
    """One searched key: the distribution's name and its arguments."""

    kind: str
    args: tuple[Any, ...]

    def example(self) -> Any:
        """A value inside the domain (its lower end, or its first choice)."""
        return self.args[0]

    def to_tune(self) -> Any:
        from ray import tune

        if self.kind == "choice":
            return tune.choice(list(self.args))
        return getattr(tune, self.kind)(*self.args)


def parse_search(text: str) -> tuple[str, Domain]:
    """``KEY=DOMAIN(ARGS)`` -> the key and its Domain; SearchError says what does not fit."""
    match = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*=\s*(\w+)\s*\((.*)\)\s*", text)
    if match is None:
        raise SearchError(
            f"{text!r}: expected KEY=DOMAIN(ARGS), e.g. agent.lr=loguniform(1e-4,1e-2)"
        )
    key, kind, inside = match.groups()
    if kind not in DOMAINS:
        raise SearchError(f"{text!r}: unknown domain {kind!r}; expected one of {list(DOMAINS)}")
    args = tuple(_scalar(text, part) for part in inside.split(",")) if inside.strip() else ()
    if kind == "choice":
        if not args:
            raise SearchError(f"{text!r}: choice needs at least one value")
        return key, Domain(kind, args)
    if len(args) != 2:
        raise SearchError(f"{text!r}: {kind} takes two arguments (LOW, HIGH), got {len(args)}")
    low, high = args
    numeric = (int,) if kind == "randint" else (int, float)
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, numeric):
            what = "integers" if kind == "randint" else "numbers"
            raise SearchError(f"{text!r}: {kind} bounds must be {what}, got {value!r}")
    if not low < high:
        raise SearchError(f"{text!r}: LOW must be below HIGH, got {low} and {high}")
    if kind == "loguniform" and low <= 0:
        raise SearchError(f"{text!r}: loguniform bounds must be positive, got {low}")
    if kind != "randint":
        low, high = float(low), float(high)
    return key, Domain(kind, (low, high))


def _scalar(text: str, part: str) -> Any:
    part = part.strip()
    if not part:
        raise SearchError(f"{text!r}: an empty argument")
    for number in (int, float):  # YAML would read 1e-4 (no dot) as a string
        try:
            return number(part)
        except ValueError:
            pass
    try:
        value = yaml.safe_load(part)
    except yaml.YAMLError:
        value = None
    if isinstance(value, (dict, list)) or value is None:
        raise SearchError(f"{text!r}: arguments must be numbers, strings or booleans, got {part!r}")
    return value


def as_override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"


# ----------------------------------------------------------------------------- trials


def run_trial(params: dict[str, Any], config_path: str, overrides: list[str], runs_dir: str):
    """One Tune trial: train with the sampled values, reporting every periodic evaluation and
    then the final one (``final: 1``)."""
    from ray import tune

    import envs  # noqa: F401  (a Ray worker registers the env ids itself)
    from agents.training import load_experiment, train

    config = load_experiment(
        config_path,
        [*overrides, *(as_override(k, v) for k, v in params.items()), f"train.runs_dir={runs_dir}"],
    )

    def report(step: int, result: Any) -> None:
        tune.report({METRIC: result.mean, "ci95_low": result.ci95_low, "step": step, "final": 0})

    out = train(config, progress=False, on_eval=report, announce=False)
    tune.report(
        {
            METRIC: out.evaluation.mean,
            "ci95_low": out.evaluation.ci95_low,
            "final": 1,
            "run_dir": str(out.run_dir),
        }
    )


def sweep_overrides(config_path: str, overrides: list[str]) -> tuple[list[str], int]:
    """The overrides every trial gets (an eval cadence when the config has none) and the
    number of reports a full trial makes (ASHA's max_t)."""
    from agents.training import load_experiment
    from rlcourse.config import ConfigError

    config = load_experiment(config_path, overrides)
    every, steps = config.train.eval_every, config.train.steps
    extra = []
    if every is None:
        if steps is None:
            raise ConfigError(
                config_path,
                ["train.eval_every: ASHA needs periodic evaluations; set it (or train.steps)"],
            )
        every = max(1, steps // 4)
        extra.append(f"train.eval_every={every}")
    reports = (steps // every if steps is not None else 100) + 1
    return [*overrides, *extra], reports


# ----------------------------------------------------------------------------- results


def result_rows(results: Any, keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per trial: its sampled values, its last reported numbers and whether it ran its
    full budget; best first."""
    rows = []
    for result in results:
        metrics = result.metrics or {}
        rows.append(
            {
                "trial": metrics.get("trial_id", Path(result.path).name),
                **{key: result.config.get(key) for key in keys},
                METRIC: metrics.get(METRIC, math.nan),
                "ci95_low": metrics.get("ci95_low", math.nan),
                "reports": metrics.get("training_iteration", 0),
                "status": "error"
                if result.error
                else ("full" if metrics.get("final") else "stopped"),
                "run_dir": metrics.get("run_dir", ""),
            }
        )
    rows.sort(key=lambda r: (r["status"] == "full", _sortable(r[METRIC])), reverse=True)
    return rows


def _sortable(value: float) -> float:
    return -math.inf if value is None or math.isnan(value) else value


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def print_summary(rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    header = ["trial", *keys, METRIC, "ci95_low", "reports", "status"]
    cells = [header] + [[_cell(row[h]) for h in header] for row in rows]
    print_rows(cells)


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ----------------------------------------------------------------------------- main


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("args", nargs="+", metavar="CONFIG [key=value ...]")
    parser.add_argument(
        "--search",
        action="append",
        default=[],
        metavar="KEY=DOMAIN",
        help="a searched key and its domain (repeat for more keys)",
    )
    parser.add_argument("--samples", type=int, default=16, help="trials to run")
    parser.add_argument("--address", help="join this Ray cluster (auto, host:port)")
    parser.add_argument("--cpus", type=int, default=None, help="CPUs of a local cluster")
    parser.add_argument("--max-concurrent", type=int, default=0, help="0: as many as fit")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random search")
    parser.add_argument("--out", help="sweep folder (default runs/tune/<name>/<timestamp>)")
    opts = parser.parse_intermixed_args(argv)
    files = [a for a in opts.args if "=" not in a]
    overrides = [a for a in opts.args if "=" in a]
    if len(files) != 1:
        parser.error("give exactly one config file (then key=value overrides)")
    if not opts.search:
        parser.error("give at least one --search KEY=DOMAIN")
    if opts.samples < 1:
        parser.error(f"--samples must be at least 1, got {opts.samples}")
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.backends import BackendVersionError, require
    from agents.training import load_experiment
    from rlcourse.config import ConfigError
    from rlcourse.files import atomic_write_text

    config_path = str(Path(files[0]).resolve())
    try:
        space = dict(parse_search(text) for text in opts.search)
        trial_overrides, max_reports = sweep_overrides(config_path, overrides)
        # Every searched key must exist and accept its domain: check one value of each now.
        load_experiment(
            config_path,
            [*trial_overrides, *(as_override(k, d.example()) for k, d in space.items())],
        )
        require("ray")
    except (SearchError, ConfigError, FileNotFoundError, BackendVersionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    name = load_experiment(config_path, overrides).name
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(opts.out or Path("runs", "tune", name, stamp)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"sweep folder: {out}  (TensorBoard: tensorboard --logdir {out / 'trials'})", flush=True)
    rows = sweep(config_path, trial_overrides, space, max_reports, out, opts)
    write_csv(out / "results.csv", rows)
    print_summary(rows, list(space))
    best = next((r for r in rows if r["status"] == "full"), None)
    if best is None:
        print(f"no trial ran its full budget; see {out / 'results.csv'}", file=sys.stderr)
        return 1
    chosen = [as_override(k, best[k]) for k in space]
    config = load_experiment(config_path, [*overrides, *chosen])
    atomic_write_text(out / "best.yaml", config.to_yaml())
    print(f"results:     {out / 'results.csv'}")
    print(f"best config: {out / 'best.yaml'} ({', '.join(chosen)})")
    return 0


def trial_resources(config_path: str, overrides: list[str]) -> Any:
    """One CPU per trial; with the rllib backend one more per env runner (bundles that Ray Tune
    places together, RLlib's actors inside them)."""
    from ray import tune

    from agents.training import load_experiment

    backend = load_experiment(config_path, overrides).backend
    runners = backend.num_env_runners if backend.name == "rllib" else 0
    return tune.PlacementGroupFactory([{"CPU": 1}] * (1 + runners))


def sweep(
    config_path: str,
    overrides: list[str],
    space: dict[str, Domain],
    max_reports: int,
    out: Path,
    opts: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Run the trials on Ray (a local cluster unless `opts.address`); the results table."""
    import functools

    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from rlcourse.distributed import start_ray

    # Each trial writes TensorBoard events into its own run directory (under the sweep folder):
    # Tune's copies, and its hint pointing at a staging folder, are not wanted.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    print(start_ray(opts.address, None if opts.address else opts.cpus), flush=True)
    try:
        trainable = functools.partial(
            run_trial, config_path=config_path, overrides=overrides, runs_dir=str(out / "trials")
        )
        tuner = tune.Tuner(
            tune.with_resources(trainable, trial_resources(config_path, overrides)),
            param_space={key: domain.to_tune() for key, domain in space.items()},
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="max",
                num_samples=opts.samples,
                max_concurrent_trials=opts.max_concurrent or None,
                search_alg=BasicVariantGenerator(random_state=opts.seed),
                scheduler=ASHAScheduler(max_t=max_reports, grace_period=1, reduction_factor=2),
            ),
            run_config=tune.RunConfig(name="ray_results", storage_path=str(out), verbose=1),
        )
        return result_rows(tuner.fit(), list(space))
    finally:
        ray.shutdown()


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
