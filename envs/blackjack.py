"""Blackjack as Sutton & Barto (2018), Example 5.1, play it: Gymnasium's ``Blackjack-v1`` with
``sab=True``, its observations numbered for tabular agents, episodes startable in any state
(exploring starts), and the exact model of the game for dynamic programming.

Importing this registers ``rlcourse/Blackjack-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.envs.toy_text.blackjack import BlackjackEnv, draw_card

from rlcourse.mdp import TabularMDP

STICK, HIT = 0, 1
SUMS, DEALER_CARDS = 32, 11  # Gymnasium's observation ranges: player sum 0-31, dealer card 0-10
N_STATES = SUMS * DEALER_CARDS * 2
# an infinite deck: ace (1) to 9 each 1/13, and the four ten-valued cards 4/13
CARD_PROBS = {card: (4 if card == 10 else 1) / 13 for card in range(1, 11)}


def state_index(player_sum: int, dealer_card: int, usable_ace: bool | int) -> int:
    """The number of the observation (player sum, dealer's showing card, usable ace)."""
    return (int(player_sum) * DEALER_CARDS + int(dealer_card)) * 2 + int(usable_ace)


def state_of(index: int) -> tuple[int, int, int]:
    """(player sum, dealer card, usable ace) of a state number."""
    rest, ace = divmod(int(index), 2)
    player_sum, dealer = divmod(rest, DEALER_CARDS)
    return player_sum, dealer, ace


def decision_states() -> np.ndarray:
    """The 200 states where the player has a choice: sums 12-21, dealer 1-10, ace or not."""
    return np.array(
        [state_index(s, d, a) for s in range(12, 22) for d in range(1, 11) for a in (0, 1)]
    )


def player_hand(player_sum: int, usable_ace: bool) -> list[int]:
    """Cards that make a hand with this sum and ace (sums 12-21)."""
    if usable_ace:
        return [1, player_sum - 11]
    if player_sum <= 20:
        return [10, player_sum - 10]
    return [10, 9, 2]


class BlackjackStatesEnv(BlackjackEnv):
    """Gymnasium's Blackjack with ``sab=True`` and numbered observations.

    ## Action Space
    ``Discrete(2)``: 0 stick, 1 hit.

    ## Observation Space
    ``Discrete(704)``: :func:`state_index` of Gymnasium's (player sum, dealer card, usable
    ace); the player decides in the 200 :func:`decision_states`.

    ## Rewards, Starting State, Episode End
    Gymnasium's ``Blackjack-v1`` with ``sab=True``: +1 win, 0 draw, -1 loss; a natural wins
    unless the dealer has one too. ``reset(options={"state": s})`` deals a hand of that sum
    and ace and shows that dealer card (the hidden card is drawn), for exploring starts.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, render_mode: str | None = None):
        super().__init__(render_mode=render_mode, sab=True)
        self.observation_space = spaces.Discrete(N_STATES)
        self.exploring_starts = decision_states()

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = super().reset(seed=seed)
        if options and "state" in options:
            player_sum, dealer, ace = state_of(options["state"])
            if not (12 <= player_sum <= 21 and 1 <= dealer <= 10):
                raise ValueError(f"options['state'] = {options['state']}: not a decision state")
            self.player = player_hand(player_sum, bool(ace))
            self.dealer = [dealer, draw_card(self.np_random)]
            obs = self._get_obs()
        return state_index(*obs), info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        return state_index(*obs), reward, terminated, truncated, info


# ----------------------------------------------------------------------------- the model


def dealer_final(showing: int) -> dict[int, float]:
    """Distribution of the dealer's final total (22 for bust) from the showing card, when the
    dealer hits below 17 and an ace counts 11 while that does not bust."""
    final: dict[int, float] = {}

    def play(total: int, aces: int, prob: float) -> None:
        soft = total + 10 if aces and total + 10 <= 21 else total
        if soft >= 17:
            key = 22 if soft > 21 else soft
            final[key] = final.get(key, 0.0) + prob
            return
        for card, p in CARD_PROBS.items():
            play(total + card, aces + (card == 1), prob * p)

    play(showing, int(showing == 1), 1.0)
    return final


def blackjack_model() -> TabularMDP:
    """The exact MDP of the game over the 704 numbered states (infinite deck), without the
    natural's special rule: a sum of 21 is scored like any other 21. States above 21 and
    below 12 are terminal or never decided in; sticking or hitting ends as in the game."""
    rows, nxt, prob, reward, ended = [], [], [], [], []
    end = state_index(0, 0, 0)  # an unused state number stands for every end of the game

    def add(s: int, a: int, p: float, s2: int, r: float, done: bool) -> None:
        rows.append(s * 2 + a)
        nxt.append(s2)
        prob.append(p)
        reward.append(r)
        ended.append(done)

    for s in range(N_STATES):
        player_sum, dealer, ace = state_of(s)
        if not (12 <= player_sum <= 21 and 1 <= dealer <= 10):
            for a in (STICK, HIT):
                add(s, a, 1.0, end, 0.0, True)
            continue
        for total, p in dealer_final(dealer).items():
            outcome = 1.0 if total == 22 or player_sum > total else float(player_sum == total) - 1.0
            add(s, STICK, p, end, outcome, True)
        for card, p in CARD_PROBS.items():
            new_sum, new_ace = player_sum + card, ace
            if new_sum > 21 and new_ace:
                new_sum, new_ace = new_sum - 10, 0
            if new_sum > 21:
                add(s, HIT, p, end, -1.0, True)
            else:
                add(s, HIT, p, state_index(new_sum, dealer, new_ace), 0.0, False)
    initial = np.zeros(N_STATES)
    initial[decision_states()] = 1.0 / 200
    return TabularMDP.from_arrays(
        np.array(rows), np.array(nxt), np.array(prob), np.array(reward), np.array(ended),
        N_STATES, 2, initial,
    )  # fmt: skip


if "rlcourse/Blackjack-v0" not in gymnasium.registry:
    gymnasium.register(id="rlcourse/Blackjack-v0", entry_point="envs.blackjack:BlackjackStatesEnv")
