"""Jack's Car Rental (Sutton & Barto 2018, Example 4.2, and the Exercise 4.7 variant).

Two locations; overnight Jack moves up to 5 cars between them; the next day customers rent
cars and others return them, Poisson distributed. The env keeps an exact model (`mdp`, a
`rlcourse.mdp.TabularMDP` of the next-state distribution and the expected reward), built from
the same Poisson process `step` samples. Importing this registers ``rlcourse/CarRental-v0``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.checks import check_choice
from rlcourse.mdp import TabularMDP

MAX_CARS = 20  # [cars] at a location; more are returned to the nationwide company
MAX_MOVE = 5  # [cars] moved overnight, either way
RENTAL_CREDIT = 10.0  # [$] per car rented
MOVE_COST = 2.0  # [$] per car moved
PARKING_LIMIT = 10  # [cars] kept overnight at a location before parking costs (Exercise 4.7)
PARKING_COST = 4.0  # [$] per location over the limit (Exercise 4.7)
REQUESTS = (3.0, 4.0)  # [cars/day] mean rental requests at locations 1 and 2
RETURNS = (3.0, 2.0)  # [cars/day] mean returns at locations 1 and 2
VARIANTS = ("example_4_2", "exercise_4_7")


class LocationModel(NamedTuple):
    """One location's day, by the morning count m (rows 0..MAX_CARS): the distribution of the
    evening count ``next_count[m, n]`` and the expected number of cars rented ``rented[m]``."""

    next_count: np.ndarray
    rented: np.ndarray


def location_model(mean_requests: float, mean_returns: float) -> LocationModel:
    """Exact: rentals are min(requests, m); the evening count min(m - rented + returns, 20)."""
    from scipy import stats  # only when a model is built: `import envs` stays light

    counts = np.arange(MAX_CARS + 1)
    next_count = np.zeros((MAX_CARS + 1, MAX_CARS + 1))
    rented = np.zeros(MAX_CARS + 1)
    for m in counts:
        p_rent = stats.poisson.pmf(np.arange(m + 1), mean_requests)
        p_rent[m] = stats.poisson.sf(m - 1, mean_requests)  # every request beyond m finds none
        rented[m] = p_rent @ np.arange(m + 1)
        for k, p in enumerate(p_rent):
            left = m - k
            p_ret = stats.poisson.pmf(counts - left, mean_returns)  # zero below `left`
            p_ret[MAX_CARS] = stats.poisson.sf(MAX_CARS - left - 1, mean_returns)
            next_count[m] += p * p_ret
    return LocationModel(next_count, rented)


def moved(n1: np.ndarray, n2: np.ndarray, move: np.ndarray) -> np.ndarray:
    """Cars actually moved from location 1 to 2: `move` cut to what the locations hold."""
    return np.clip(move, -n2, n1)


def move_cost(move: np.ndarray, variant: str) -> np.ndarray:
    """[$] for the cars Jack asked to move; in Exercise 4.7 one car from 1 to 2 is free."""
    paid = np.abs(move)
    if variant == "exercise_4_7":
        paid = np.where(move > 0, move - 1, paid)
    return MOVE_COST * paid


def parking_cost(morning1: np.ndarray, morning2: np.ndarray, variant: str) -> np.ndarray:
    """[$] for the second parking lot (Exercise 4.7 only)."""
    if variant != "exercise_4_7":
        return np.zeros(np.shape(morning1))
    return PARKING_COST * ((morning1 > PARKING_LIMIT).astype(float) + (morning2 > PARKING_LIMIT))


def state_index(n1: int, n2: int) -> int:
    return n1 * (MAX_CARS + 1) + n2


def build_model(variant: str = "example_4_2") -> TabularMDP:
    """The exact MDP: 441 states (n1, n2) at the end of a day, 11 actions (move -5..5)."""
    check_choice("variant", variant, VARIANTS)
    side = MAX_CARS + 1
    grids = np.meshgrid(
        np.arange(side), np.arange(side), np.arange(-MAX_MOVE, MAX_MOVE + 1), indexing="ij"
    )
    n1, n2, move = (g.ravel() for g in grids)  # rows s * A + a
    shifted = moved(n1, n2, move)
    m1, m2 = np.minimum(n1 - shifted, MAX_CARS), np.minimum(n2 + shifted, MAX_CARS)
    loc1, loc2 = location_model(REQUESTS[0], RETURNS[0]), location_model(REQUESTS[1], RETURNS[1])
    reward = (
        RENTAL_CREDIT * (loc1.rented[m1] + loc2.rented[m2])
        - move_cost(move, variant)
        - parking_cost(m1, m2, variant)
    )
    prob = loc1.next_count[m1][:, :, None] * loc2.next_count[m2][:, None, :]  # [S*A, n1', n2']
    rows, first, second = np.nonzero(prob > 0)
    n_actions = 2 * MAX_MOVE + 1
    return TabularMDP.from_arrays(
        rows,
        first * side + second,
        prob[rows, first, second],
        reward[rows],
        np.zeros(rows.size, bool),
        side * side,
        n_actions,
    )


class CarRentalEnv(gymnasium.Env):
    """Jack's Car Rental: move cars overnight between two locations to rent out more of them.

    ## Action Space
    ``Discrete(11)``: action a moves ``a - 5`` cars from location 1 to location 2 (negative:
    from 2 to 1). ``info["action_mask"]`` marks the moves the locations can cover; a larger
    move is cut to the cars there but charged in full.

    ## Observation Space
    ``Discrete(441)``: ``21 * n1 + n2`` for n1, n2 cars [cars] at the locations in the evening.

    ## Rewards
    ``info["rewards"]``: ``rentals`` +10 [$] per car rented, ``moving`` -2 [$] per car asked
    to move (Exercise 4.7: one car from 1 to 2 free), ``parking`` -4 [$] per location keeping
    more than 10 cars overnight (Exercise 4.7 only).

    ## Starting State
    Uniform over all 441 states.

    ## Episode End
    A continuing task: never terminates; the registered id truncates after 100 days.

    ## Arguments
    ``variant``: ``"example_4_2"`` or ``"exercise_4_7"``.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["ansi"]}  # noqa: RUF012 (gymnasium.Env API)

    def __init__(self, variant: str = "example_4_2", render_mode: str | None = None):
        check_choice("render_mode", render_mode, self.metadata["render_modes"], optional=True)
        self.variant = variant
        self.mdp = build_model(variant)
        self.initial_state_distrib = self.mdp.initial
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(2 * MAX_MOVE + 1)
        self.observation_space = spaces.Discrete((MAX_CARS + 1) ** 2)
        self.cars = (0, 0)

    def _info(self) -> dict[str, Any]:
        n1, n2 = self.cars
        move = np.arange(-MAX_MOVE, MAX_MOVE + 1)
        return {"action_mask": (move <= n1) & (-move <= n2)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        s = int(self.np_random.choice(self.mdp.n_states, p=self.initial_state_distrib))
        self.cars = divmod(s, MAX_CARS + 1)
        return s, self._info()

    def step(self, action: int):
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in 0..{2 * MAX_MOVE}, got {action!r}")
        n1, n2 = self.cars
        move = int(action) - MAX_MOVE
        shifted = int(moved(np.array(n1), np.array(n2), np.array(move)))
        morning = (min(n1 - shifted, MAX_CARS), min(n2 + shifted, MAX_CARS))
        requests = self.np_random.poisson(REQUESTS)
        returns = self.np_random.poisson(RETURNS)
        rented = np.minimum(requests, morning)
        evening = np.minimum(np.array(morning) - rented + returns, MAX_CARS)
        self.cars = (int(evening[0]), int(evening[1]))
        rewards = {
            "rentals": RENTAL_CREDIT * float(rented.sum()),
            "moving": -float(move_cost(np.array(move), self.variant)),
            "parking": -float(
                parking_cost(np.array(morning[0]), np.array(morning[1]), self.variant)
            ),
        }
        info = {**self._info(), "rewards": rewards}
        return state_index(*self.cars), sum(rewards.values()), False, False, info

    def render(self) -> Any:  # the ansi text, or None without a render mode
        if self.render_mode == "ansi":
            return f"location 1: {self.cars[0]} cars, location 2: {self.cars[1]} cars\n"
        return None


if "rlcourse/CarRental-v0" not in gymnasium.registry:
    gymnasium.register(
        id="rlcourse/CarRental-v0",
        entry_point="envs.car_rental:CarRentalEnv",
        max_episode_steps=100,
    )
