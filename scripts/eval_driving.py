#!/usr/bin/env python
"""A driving agent beside the IDM ego, on the same episodes: collision rate, speed, return.

    python scripts/eval_driving.py agents/pretrained/highway --episodes 100
    python scripts/eval_driving.py runs/Highway-v0/dqn_attention/<stamp> --seed 0 --json cmp.json

Every driver plays episodes ``seed, seed + 1, ...`` of the env the agent's config names (same
traffic, same reward weights), so the rows differ only in who drives the ego:

- ``agent``: the agent, acting greedily;
- ``idm (continuous)``: the IDM ego with exact acceleration and lane-keeping steering
  (``action="continuous"``), the reference an agent must out-drive;
- ``idm (discrete)``: the IDM ego through the agent's own discrete meta-actions.

Each row gives the collision rate with its Wilson 95% interval, the mean over episodes of the
ego's mean speed [m/s] and the return, each with a Student-t 95% interval; then the agent's
speed minus each IDM ego's, paired episode by episode, with its 95% interval.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, SupportsFloat

from rlcourse.cli import command
from rlcourse.evaluation import Policy, confidence_interval, evaluate
from rlcourse.files import atomic_write_text

if TYPE_CHECKING:
    import gymnasium as gym

    from rlcourse.config import ExperimentConfig

Z95 = 1.959963984540054  # standard normal quantile of 0.975


class DriverRow(NamedTuple):
    driver: str
    episodes: int
    collision_rate: float
    collision_ci95: tuple[float, float]
    mean_speed: float  # [m/s]
    mean_speed_ci95: tuple[float, float]  # [m/s]
    return_mean: float
    return_ci95: tuple[float, float]
    speeds: tuple[float, ...]  # each episode's mean speed [m/s]


class FinalInfos:
    """An env that keeps the last `info` of every finished episode (`evaluate` reports only
    means): `reset`, `step`, `metadata` and `unwrapped` are the wrapped env's. A plain class,
    not a ``gym.Wrapper``, so that --help needs no gymnasium."""

    def __init__(self, env: gym.Env):
        self.env = env
        self.finals: list[dict[str, Any]] = []

    @property
    def metadata(self) -> dict[str, Any]:
        return self.env.metadata

    @property
    def unwrapped(self) -> gym.Env:
        return self.env.unwrapped

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            self.finals.append(info)
        return obs, reward, terminated, truncated, info


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion of `successes` in `n` trials."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def drive(
    driver: str,
    policy: Policy | Callable[[gym.Env], Any],
    env: gym.Env,
    episodes: int,
    seed: int,
) -> DriverRow:
    """Play `episodes` episodes on `env` (reset with ``seed + i``) and summarise them.

    `policy` is an agent (``act(obs, info, deterministic)``, played greedily) or a driver
    that reads the env itself, such as :func:`envs.driving.idm_ego_policy`.
    """
    recorder = FinalInfos(env)
    act: Any = policy if hasattr(policy, "act") else (lambda obs, info: policy(recorder))
    result = evaluate(act, recorder, episodes, seed=seed)
    collisions = [float(info["collision"]) for info in recorder.finals]
    speeds = [float(info["mean_speed"]) for info in recorder.finals]
    return DriverRow(
        driver=driver,
        episodes=episodes,
        collision_rate=sum(collisions) / episodes,
        collision_ci95=wilson_interval(round(sum(collisions)), episodes),
        mean_speed=sum(speeds) / episodes,
        mean_speed_ci95=confidence_interval(speeds),
        return_mean=result.mean,
        return_ci95=(result.ci95_low, result.ci95_high),
        speeds=tuple(speeds),
    )


def paired_speed_difference(row: DriverRow, baseline: DriverRow) -> tuple[float, float, float]:
    """Mean of ``row`` minus ``baseline`` speed over the same episodes, with its Student-t 95%
    interval [m/s]: episode by episode, so that what both face (traffic) cancels."""
    if row.episodes != baseline.episodes:
        raise ValueError(f"rows of {row.episodes} and {baseline.episodes} episodes do not pair")
    differences = [a - b for a, b in zip(row.speeds, baseline.speeds, strict=True)]
    low, high = confidence_interval(differences)
    return sum(differences) / len(differences), low, high


def compare(agent: Any, config: ExperimentConfig, episodes: int, seed: int = 0) -> list[DriverRow]:
    """The agent, the continuous IDM ego and the discrete IDM ego on the same episodes;
    ValueError when the config's env is not a driving env with discrete meta-actions."""
    from agents.training import env_factory
    from envs.driving import DrivingEnv, idm_ego_policy

    if config.env.kwargs.get("action", "discrete") != "discrete":
        raise ValueError("eval_driving compares agents that use discrete meta-actions")
    rows = []
    for driver, policy, extra in (
        ("agent", agent, {}),
        ("idm (continuous)", idm_ego_policy, {"action": "continuous"}),
        ("idm (discrete)", idm_ego_policy, {}),
    ):
        env = env_factory(config, **extra)()
        if not isinstance(env.unwrapped, DrivingEnv):  # the agent's own env comes first
            env.close()
            raise ValueError(f"{config.env.id} is not a driving env: eval_driving compares drivers")
        rows.append(drive(driver, policy, env, episodes, seed))
        env.close()
    return rows


def table(rows: list[DriverRow]) -> str:
    lines = [
        f"{'driver':<18} {'collision rate [95% CI]':<24} {'mean speed [m/s]':<20} return",
    ]
    for r in rows:
        lo, hi = r.collision_ci95
        s_half = (r.mean_speed_ci95[1] - r.mean_speed_ci95[0]) / 2
        g_half = (r.return_ci95[1] - r.return_ci95[0]) / 2
        lines.append(
            f"{r.driver:<18} {r.collision_rate:.3f} [{lo:.3f}, {hi:.3f}]{'':<5} "
            f"{r.mean_speed:6.2f} ± {s_half:<10.2f} {r.return_mean:.2f} ± {g_half:.2f}"
        )
    for baseline in rows[1:]:
        mean, low, high = paired_speed_difference(rows[0], baseline)
        lines.append(
            f"speed {rows[0].driver} - {baseline.driver}, paired by episode: "
            f"{mean:+.2f} m/s [95% CI {low:+.2f}, {high:+.2f}]"
        )
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", metavar="RUN_DIR|CHECKPOINT")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed + i")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    opts = parser.parse_args(argv)
    if opts.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {opts.episodes}")
    # Imported once the arguments are read, so that --help answers at once.
    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.training import load_agent
    from rlcourse.config import ConfigError

    try:
        agent, config = load_agent(opts.path)
        rows = compare(agent, config, opts.episodes, opts.seed)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = opts.seed + opts.episodes - 1
    print(f"{config.env.id} {config.env.kwargs}, episodes seeded {opts.seed}..{last}")
    print(table(rows))
    if opts.json:
        rows_json = json.dumps({r.driver: r._asdict() for r in rows}, indent=2)
        atomic_write_text(opts.json, rows_json + "\n")
        print(f"wrote {opts.json}")
    return 0


# a file that cannot be read as data, or written, ends the command in one line naming it
main = command(run)


if __name__ == "__main__":
    sys.exit(main())
