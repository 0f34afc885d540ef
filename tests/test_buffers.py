"""Replay buffers: n-step returns by hand, compact storage against a naive reference, priorities,
importance weights, memory, determinism, resume and argument errors."""

import collections
import pickle
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import pytest
from scipy.stats import chisquare

from rlcourse.buffers import PrioritizedReplayBuffer, ReplayBatch, ReplayBuffer

SCALAR_BOX = gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)


def add_one(buffer, obs, action, reward, next_obs, terminated=False, truncated=False, mask=None):
    """One step of a single env whose observations are single numbers."""
    buffer.add(
        np.array([[obs]], dtype=np.float32),
        np.array([action]),
        np.array([reward]),
        np.array([[next_obs]], dtype=np.float32),
        np.array([terminated]),
        np.array([truncated]),
        None if mask is None else np.array([mask]),
    )


def contents(buffer) -> ReplayBatch:
    return buffer.gather(np.arange(len(buffer)))


# Two episodes of one env, gamma = 1/2. Observations are numbered; actions count the steps.
#   A: 0 -(r=1)-> 1 -(r=2)-> 2 -(r=4)-> 3, terminated
#   B: 10 -(r=8)-> 11 -(r=16)-> 12 -(r=32)-> 13 -(r=64)-> 14, truncated
STEPS = [  # obs, action, reward, next_obs, terminated, truncated
    (0, 0, 1.0, 1, False, False),
    (1, 1, 2.0, 2, False, False),
    (2, 2, 4.0, 3, True, False),
    (10, 3, 8.0, 11, False, False),
    (11, 4, 16.0, 12, False, False),
    (12, 5, 32.0, 13, False, False),
    (13, 6, 64.0, 14, False, True),
]
# (obs, action, reward, next_obs, discount) in storage order, and len() after each step
EXPECTED = {
    1: (
        [
            (0, 0, 1.0, 1, 0.5),
            (1, 1, 2.0, 2, 0.5),
            (2, 2, 4.0, 3, 0.0),
            (10, 3, 8.0, 11, 0.5),
            (11, 4, 16.0, 12, 0.5),
            (12, 5, 32.0, 13, 0.5),
            (13, 6, 64.0, 14, 0.5),  # truncated: bootstrap from the final observation
        ],
        [1, 2, 3, 4, 5, 6, 7],
    ),
    3: (
        [
            (0, 0, 1 + 2 / 2 + 4 / 4, 3, 0.0),  # the terminal cuts every window of A short
            (1, 1, 2 + 4 / 2, 3, 0.0),
            (2, 2, 4.0, 3, 0.0),
            (10, 3, 8 + 16 / 2 + 32 / 4, 13, 1 / 8),
            (11, 4, 16 + 32 / 2 + 64 / 4, 14, 1 / 8),  # truncated after exactly 3 steps
            (12, 5, 32 + 64 / 2, 14, 1 / 4),  # flushed at the truncation: gamma**k, final obs
            (13, 6, 64.0, 14, 1 / 2),
        ],
        [0, 0, 3, 3, 3, 4, 7],
    ),
}


@pytest.mark.parametrize("n_step", [1, 3])
def test_n_step_returns_against_a_hand_computed_sequence(n_step):
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=n_step, gamma=0.5)
    expected, lengths = EXPECTED[n_step]
    for step, length in zip(STEPS, lengths, strict=True):
        add_one(buffer, *step)
        assert len(buffer) == length
    batch = contents(buffer)
    obs, actions, rewards, next_obs, discounts = map(np.array, zip(*expected, strict=True))
    np.testing.assert_array_equal(batch.observations[:, 0], obs)
    np.testing.assert_array_equal(batch.actions, actions)
    np.testing.assert_array_equal(batch.rewards, rewards)
    np.testing.assert_array_equal(batch.next_observations[:, 0], next_obs)
    np.testing.assert_array_equal(batch.discounts, discounts)
    assert batch.actions.dtype == np.int64 and batch.indices.dtype == np.int64
    assert batch.rewards.dtype == batch.discounts.dtype == batch.weights.dtype == np.float32
    assert batch.observations.dtype == np.float32 and batch.next_action_masks is None


def test_an_episode_shorter_than_n_is_flushed_with_the_discount_of_its_length():
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=5, gamma=0.5)
    add_one(buffer, 0, 0, 1.0, 1)
    add_one(buffer, 1, 1, 2.0, 2, truncated=True)
    batch = contents(buffer)
    np.testing.assert_array_equal(batch.rewards, [1 + 2 / 2, 2.0])
    np.testing.assert_array_equal(batch.discounts, [1 / 4, 1 / 2])
    np.testing.assert_array_equal(batch.next_observations[:, 0], [2, 2])


def test_terminated_and_truncated_together_count_as_terminated():
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=2, gamma=0.5)
    add_one(buffer, 0, 0, 1.0, 1)
    add_one(buffer, 1, 1, 2.0, 2, terminated=True, truncated=True)
    np.testing.assert_array_equal(contents(buffer).discounts, [0.0, 0.0])


def test_next_action_masks_belong_to_the_next_observation():
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=2, gamma=0.5, action_mask_size=3)
    masks = [[True, False, False], [False, True, False], [False, False, True], [True, True, True]]
    add_one(buffer, 0, 0, 1.0, 1, mask=masks[0])
    add_one(buffer, 1, 1, 1.0, 2, mask=masks[1])
    add_one(buffer, 2, 2, 1.0, 3, terminated=True, mask=masks[2])
    add_one(buffer, 10, 0, 1.0, 11, mask=masks[3])
    # transitions from 0 -> 2, then (flushed at the terminal) 1 -> 3 and 2 -> 3
    batch = contents(buffer)
    np.testing.assert_array_equal(batch.next_observations[:, 0], [2, 3, 3])
    np.testing.assert_array_equal(batch.next_action_masks, [masks[1], masks[2], masks[2]])
    assert batch.next_action_masks.dtype == bool


def test_discrete_observations_are_stored_as_int64_indices():
    buffer = ReplayBuffer(10, gym.spaces.Discrete(6), num_envs=2)
    buffer.add([3, 5], [0, 1], [0.0, 1.0], [4, 0], [False, True], [False, False])
    batch = contents(buffer)
    assert batch.observations.dtype == np.int64 and batch.observations.shape == (2,)
    np.testing.assert_array_equal(batch.observations, [3, 5])
    np.testing.assert_array_equal(batch.next_observations, [4, 0])


def test_sample_returns_the_transitions_at_its_indices():
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=3, gamma=0.5, seed=0)
    for step in STEPS:
        add_one(buffer, *step)
    batches = [buffer.sample(7) for _ in range(10)]
    assert set(np.concatenate([batch.indices for batch in batches])) == set(range(7))
    for batch in batches:
        for got, want in zip(batch, buffer.gather(batch.indices), strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(batch.weights, np.ones(7, dtype=np.float32))


def test_sample_batches_stacks_batches_drawn_like_sample():
    buffer = ReplayBuffer(10, SCALAR_BOX, n_step=3, gamma=0.5, seed=0)
    for step in STEPS:
        add_one(buffer, *step)
    stacked = buffer.sample_batches(7, 30)  # more rows than transitions: with replacement
    assert stacked.indices.shape == (210,)
    assert set(stacked.indices) == set(range(7))
    for got, want in zip(stacked, buffer.gather(stacked.indices), strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="count"):
        buffer.sample_batches(7, 0)


def test_prioritized_sample_batches_are_stacked_samples():
    buffer, twin = filled_prioritized(16, seed=3), filled_prioritized(16, seed=3)
    buffer.update_priorities(np.arange(16), np.arange(16.0))
    twin.update_priorities(np.arange(16), np.arange(16.0))
    stacked = buffer.sample_batches(4, 3)
    expected = [twin.sample(4) for _ in range(3)]
    np.testing.assert_array_equal(stacked.indices, np.concatenate([b.indices for b in expected]))
    np.testing.assert_array_equal(stacked.weights, np.concatenate([b.weights for b in expected]))


# -- compact storage against a naive reference --------------------------------------------


class Step(NamedTuple):
    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_action_masks: np.ndarray | None


def vector_env_stream(steps, num_envs=3, shape=(4, 4), n_actions=4, end_rate=0.15, seed=0):
    """Steps of `num_envs` random-image envs whose episodes end at random (one step or more);
    the obs of a continuing env is its previous next_obs, after an episode end a fresh frame."""
    rng = np.random.default_rng(seed)
    obs = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
    for _ in range(steps):
        next_obs = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
        terminated = rng.random(num_envs) < end_rate
        truncated = rng.random(num_envs) < end_rate
        yield Step(
            obs=obs,
            actions=rng.integers(0, n_actions, size=num_envs),
            rewards=rng.normal(size=num_envs),
            next_obs=next_obs,
            terminated=terminated,
            truncated=truncated,
            next_action_masks=rng.random((num_envs, n_actions)) < 0.5,
        )
        resets = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
        obs = np.where((terminated | truncated)[:, None, None], resets, next_obs)


class NaiveReplay:
    """Full (obs, action, reward, next_obs, discount, mask) tuples in a ring, the n-step sums
    recomputed from each env's last n steps."""

    def __init__(self, capacity, num_envs, n_step, gamma):
        self.capacity, self.n_step, self.gamma = capacity, n_step, gamma
        self.items: list[Any] = [None] * capacity
        self.position = self.size = 0
        self.recent = [collections.deque(maxlen=n_step) for _ in range(num_envs)]

    def add(self, step: Step):
        for env, recent in enumerate(self.recent):
            now = Step(*(field[env] for field in step))
            recent.append(now)
            ended = now.terminated or now.truncated
            # an episode end closes every open window (oldest first), else a full one closes
            full = len(recent) == self.n_step
            starts = range(len(recent)) if ended else range(1) if full else range(0)
            for start in starts:
                window = list(recent)[start:]
                reward = sum(self.gamma**k * s.rewards for k, s in enumerate(window))
                discount = 0.0 if now.terminated else self.gamma ** len(window)
                first = window[0]
                self.items[self.position] = (
                    first.obs, first.actions, reward, now.next_obs, discount,
                    now.next_action_masks,
                )  # fmt: skip
                self.position = (self.position + 1) % self.capacity
                self.size = min(self.size + 1, self.capacity)
            if ended:
                recent.clear()

    def contents(self):
        return [np.array(field) for field in zip(*self.items[: self.size], strict=True)]


def assert_same_contents(buffer, reference):
    assert len(buffer) == reference.size
    if reference.size == 0:
        return
    batch = contents(buffer)
    obs, actions, rewards, next_obs, discounts, masks = reference.contents()
    np.testing.assert_array_equal(batch.observations, obs)
    np.testing.assert_array_equal(batch.actions, actions)
    np.testing.assert_allclose(batch.rewards, rewards, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(batch.next_observations, next_obs)
    np.testing.assert_allclose(batch.discounts, discounts, rtol=1e-6)
    np.testing.assert_array_equal(batch.next_action_masks, masks)


@pytest.mark.parametrize(
    ("capacity", "n_step", "end_rate"),
    [
        (17, 1, 0.15),
        (17, 3, 0.15),
        (23, 5, 0.05),
        (2, 3, 0.15),  # one step can close more windows than the buffer holds
        (40, 2, 0.6),  # mostly one-step episodes: final observations add many frames
    ],
)
def test_compact_storage_equals_a_naive_reference_through_many_wrap_arounds(
    capacity, n_step, end_rate
):
    buffer = ReplayBuffer(
        capacity, gym.spaces.Box(0, 255, (4, 4), np.uint8), num_envs=3, n_step=n_step,
        gamma=0.9, action_mask_size=4,
    )  # fmt: skip
    reference = NaiveReplay(capacity, 3, n_step, gamma=0.9)
    for step in vector_env_stream(1500, end_rate=end_rate):
        buffer.add(*step)
        reference.add(step)
        assert_same_contents(buffer, reference)
        # frames are given back: at most a first and a final one per transition, plus the
        # open windows' and the continuing envs' latest frames
        assert buffer.frame_store.in_use <= 2 * len(buffer) + 3 * n_step


def test_uint8_images_take_about_one_frame_per_transition():
    capacity, shape, num_envs = 1000, (84, 84), 4
    buffer = ReplayBuffer(
        capacity, gym.spaces.Box(0, 255, shape, np.uint8), num_envs=num_envs, n_step=3
    )
    frame_bytes = 84 * 84
    slots_before = buffer.frame_store.slots
    rng = np.random.default_rng(0)
    obs = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
    for t in range(3 * capacity // num_envs):
        next_obs = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
        ended = (t + 50 * np.arange(num_envs)) % 200 == 199  # 200-step episodes, staggered
        no_action, no_reward = np.zeros(num_envs, np.int64), np.zeros(num_envs)
        buffer.add(obs, no_action, no_reward, next_obs, ended, np.zeros(num_envs, bool))
        obs = np.where(ended[:, None, None], next_obs[:, ::-1], next_obs)
    assert len(buffer) == capacity
    assert buffer.frame_store.slots == slots_before  # never grew
    assert buffer.frame_store.frames.nbytes <= 1.05 * capacity * frame_bytes
    assert buffer.nbytes <= 1.15 * capacity * frame_bytes  # all arrays, transitions included
    # a buffer storing obs and next_obs separately needs 2 * capacity * frame_bytes


# -- prioritized replay ----------------------------------------------------------------------


def filled_prioritized(count, **kwargs):
    buffer = PrioritizedReplayBuffer(count, SCALAR_BOX, gamma=0.5, **kwargs)
    for i in range(count):
        add_one(buffer, i, i, 0.0, i + 1)
    return buffer


def test_new_transitions_get_the_largest_priority_seen_so_far():
    buffer = filled_prioritized(3, alpha=1.0, epsilon=1e-6)
    np.testing.assert_array_equal(buffer.priorities([0, 1, 2]), [1.0, 1.0, 1.0])
    buffer.update_priorities([0, 1], [-3.0, 0.5])  # p = |delta| + eps
    np.testing.assert_allclose(buffer.priorities([0, 1, 2]), [3 + 1e-6, 0.5 + 1e-6, 1.0])
    buffer.update_priorities([0], [0.0])
    add_one(buffer, 3, 3, 0.0, 4)  # overwrites storage index 0 with priority max(3, 1)
    np.testing.assert_allclose(buffer.priorities([0]), [3 + 1e-6])


def test_priority_is_the_td_error_plus_epsilon_to_the_alpha():
    buffer = filled_prioritized(2, alpha=0.5, epsilon=0.25)
    buffer.update_priorities([0, 1], [2.0, -6.0])
    np.testing.assert_allclose(buffer.priorities([0, 1]), [1.5, 2.5])  # sqrt(2.25), sqrt(6.25)


@pytest.mark.parametrize(
    ("beta", "expected"),
    [
        # p = 1, 2, 3, 4, so P = .1 .2 .3 .4 and N P = .4 .8 1.2 1.6; w = (N P)**-beta divided
        # by its largest value (N P = .4): w_i = (p_1 / p_i)**beta
        (0.5, [1.0, 0.70710678, 0.57735027, 0.5]),
        (1.0, [1.0, 0.5, 1 / 3, 0.25]),
        (0.0, [1.0, 1.0, 1.0, 1.0]),
    ],
)
def test_importance_weights_against_a_hand_computation(beta, expected):
    buffer = filled_prioritized(4, alpha=0.5, beta=beta, epsilon=1e-6, seed=0)
    buffer.update_priorities([0, 1, 2, 3], np.array([1.0, 4.0, 9.0, 16.0]) - 1e-6)
    for _ in range(20):
        batch = buffer.sample(4)
        np.testing.assert_allclose(batch.weights, np.array(expected)[batch.indices], rtol=1e-5)
        assert batch.weights.dtype == np.float32


def test_beta_can_be_annealed():
    buffer = filled_prioritized(4, alpha=1.0, beta=0.0, epsilon=1e-6, seed=0)
    buffer.update_priorities([0, 1, 2, 3], [1.0, 1.0, 1.0, 4.0])
    assert np.all(buffer.sample(4).weights == 1.0)
    buffer.beta = 1.0
    batch = buffer.sample(4)
    np.testing.assert_allclose(batch.weights, np.where(batch.indices == 3, 0.25, 1.0), rtol=1e-5)


def sampled_counts(buffer, draws=20_000, batch_size=8):
    batches = draws // batch_size
    indices = np.concatenate([buffer.sample(batch_size).indices for _ in range(batches)])
    return np.bincount(indices, minlength=len(buffer)), len(indices)


def test_updated_priorities_change_the_sampling_distribution():
    buffer = filled_prioritized(10, alpha=1.0, epsilon=1e-6, seed=1)
    counts, draws = sampled_counts(buffer)  # all at the initial priority: uniform
    assert chisquare(counts).pvalue > 1e-3
    priorities = np.arange(1.0, 11.0)
    buffer.update_priorities(np.arange(10), priorities - 1e-6)
    counts, draws = sampled_counts(buffer)
    assert chisquare(counts, draws * priorities / priorities.sum()).pvalue > 1e-3
    buffer.update_priorities([9], [100.0])  # one large TD error takes most of the draws
    counts, draws = sampled_counts(buffer)
    priorities[9] = 100.0
    assert chisquare(counts, draws * priorities / priorities.sum()).pvalue > 1e-3


def test_alpha_zero_samples_uniformly_whatever_the_td_errors():
    buffer = filled_prioritized(10, alpha=0.0, seed=2)
    buffer.update_priorities(np.arange(10), np.arange(10) ** 3)
    counts, _ = sampled_counts(buffer)
    assert chisquare(counts).pvalue > 1e-3
    assert np.all(buffer.sample(8).weights == 1.0)


# -- determinism and resume ------------------------------------------------------------------


def make_buffer(kind, seed=0, capacity=50, n_step=3):
    space = gym.spaces.Box(0, 255, (4, 4), np.uint8)
    return kind(capacity, space, num_envs=3, n_step=n_step, gamma=0.9, seed=seed)


def drive(buffer, steps, batch_size=16):
    """Add `steps`, sampling (and updating priorities) after each; the batches sampled."""
    batches = []
    for step in steps:
        buffer.add(*step[:-1])
        if len(buffer) >= batch_size:
            batch = buffer.sample(batch_size)
            batches.append(batch)
            if isinstance(buffer, PrioritizedReplayBuffer):
                buffer.update_priorities(batch.indices, batch.rewards - batch.discounts)
    return batches


def assert_same_batches(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        for field_a, field_b in zip(a, b, strict=True):
            np.testing.assert_array_equal(field_a, field_b)


@pytest.mark.parametrize("kind", [ReplayBuffer, PrioritizedReplayBuffer])
def test_same_seed_same_samples(kind):
    steps = list(vector_env_stream(200))
    first = drive(make_buffer(kind, seed=5), steps)
    assert_same_batches(first, drive(make_buffer(kind, seed=5), steps))
    other = drive(make_buffer(kind, seed=6), steps)
    assert not np.array_equal(first[-1].indices, other[-1].indices)


@pytest.mark.parametrize("kind", [ReplayBuffer, PrioritizedReplayBuffer])
def test_state_dict_round_trip_continues_identically(kind):
    steps = list(vector_env_stream(300, end_rate=0.1))
    original = make_buffer(kind, seed=3)
    drive(original, steps[:150])  # wrapped around, with n-step windows open
    if kind is PrioritizedReplayBuffer:
        original.beta = 0.7
    state = pickle.loads(pickle.dumps(original.state_dict()))
    frozen = pickle.dumps(state)

    resumed = make_buffer(kind, seed=99)
    resumed.load_state_dict(state)
    assert_same_batches(drive(original, steps[150:]), drive(resumed, steps[150:]))
    assert pickle.dumps(state) == frozen  # the state is a copy, untouched by later adds


def test_loading_a_state_from_a_different_buffer_is_refused():
    state = make_buffer(ReplayBuffer).state_dict()
    with pytest.raises(ValueError, match="capacity=50"):
        make_buffer(ReplayBuffer, capacity=60).load_state_dict(state)
    with pytest.raises(ValueError, match="kind='ReplayBuffer'"):
        make_buffer(PrioritizedReplayBuffer).load_state_dict(state)


# -- the one-env path against the general path ----------------------------------------------


class GeneralPath:
    """Takes every step through the general path of `add`: the arguments as nested lists (so
    each is converted and checked on its own) and every closed window stored as arrays."""

    def add(self, *step):
        super().add(*(None if field is None else np.asarray(field).tolist() for field in step))

    def _store_one(self, *transition):
        self._store(*(np.array([field]) for field in transition))


class GeneralReplayBuffer(GeneralPath, ReplayBuffer):
    pass


class GeneralPrioritizedReplayBuffer(GeneralPath, PrioritizedReplayBuffer):
    pass


def assert_same_state(first, second):
    """Equal state dicts, arrays equal in dtype and in every bit."""
    assert type(first) is type(second) or {type(first), type(second)} <= {int, float}
    if isinstance(first, dict):
        assert first.keys() == second.keys()
        for key in first:
            assert_same_state(first[key], second[key])
    elif isinstance(first, list | tuple):
        assert len(first) == len(second)
        for a, b in zip(first, second, strict=True):
            assert_same_state(a, b)
    elif isinstance(first, np.ndarray):
        assert first.dtype == second.dtype and first.shape == second.shape
        assert first.tobytes() == second.tobytes()
    else:
        assert first == second


@pytest.mark.parametrize(
    ("kind", "general_kind"),
    [
        (ReplayBuffer, GeneralReplayBuffer),
        (PrioritizedReplayBuffer, GeneralPrioritizedReplayBuffer),
    ],
)
@pytest.mark.parametrize(("num_envs", "n_step"), [(1, 1), (1, 3), (3, 3)])
def test_the_fast_and_the_general_path_build_identical_buffers(
    kind, general_kind, num_envs, n_step
):
    steps = list(vector_env_stream(240, num_envs=num_envs, end_rate=0.05, seed=num_envs))
    settings = {
        "capacity": 30, "observation_space": gym.spaces.Box(0, 255, (4, 4), np.uint8),
        "num_envs": num_envs, "n_step": n_step, "gamma": 0.9, "action_mask_size": 4, "seed": 7,
    }  # fmt: skip
    fast, general = kind(**settings), general_kind(**settings)
    if num_envs == 1:  # the stream's arrays take the one-env path
        assert all(fast._needs_no_conversion(*step[:6]) for step in steps)
    for t, step in enumerate(steps):
        fast.add(*step)
        general.add(*step)
        if len(fast) >= 8:
            batch = fast.sample(8)
            assert_same_batches([batch], [general.sample(8)])
            if kind is PrioritizedReplayBuffer:
                for buffer in (fast, general):
                    buffer.update_priorities(batch.indices, batch.rewards - batch.discounts)
        if t % 40 == 39:
            fast_state, general_state = fast.state_dict(), general.state_dict()
            del fast_state["settings"]["kind"], general_state["settings"]["kind"]
            assert_same_state(fast_state, general_state)  # frames, windows, priorities, RNG


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": 10.0}, "capacity"),
        ({"num_envs": 0}, "num_envs"),
        ({"n_step": 0}, "n_step"),
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": -0.1}, "gamma"),
        ({"action_mask_size": 0}, "action_mask_size"),
        ({"alpha": -0.1}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"beta": 1.1}, "beta"),
        ({"beta": -0.5}, "beta"),
        ({"epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, argument):
    settings = {"capacity": 10, "observation_space": SCALAR_BOX, **kwargs}
    with pytest.raises(ValueError, match=argument):
        PrioritizedReplayBuffer(**settings)


def test_beta_set_out_of_range_is_refused():
    buffer = PrioritizedReplayBuffer(10, SCALAR_BOX)
    with pytest.raises(ValueError, match="beta"):
        buffer.beta = 1.5
    assert buffer.beta == 0.4


def test_unsupported_observation_space_is_refused():
    with pytest.raises(TypeError, match="observation_space"):
        ReplayBuffer(10, gym.spaces.MultiBinary(3))


def test_sampling_more_than_the_contents_is_refused():
    buffer = ReplayBuffer(10, SCALAR_BOX)
    with pytest.raises(ValueError, match="batch_size 1 exceeds the 0 transitions"):
        buffer.sample(1)
    add_one(buffer, 0, 0, 0.0, 1)
    add_one(buffer, 1, 0, 0.0, 2)
    with pytest.raises(ValueError, match="batch_size 3 exceeds the 2 transitions"):
        buffer.sample(3)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0)


GOOD_STEP = {
    "obs": np.zeros((2, 3), np.float32),
    "actions": np.array([0, 1]),
    "rewards": np.array([0.0, 1.0]),
    "next_obs": np.ones((2, 3), np.float32),
    "terminated": np.array([False, False]),
    "truncated": np.array([False, True]),
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"obs": np.zeros((1, 3))}, r"obs must have shape \(2, 3\)"),
        ({"obs": np.zeros(3)}, "obs must have shape"),
        ({"next_obs": np.zeros((2, 4))}, "next_obs must have shape"),
        ({"actions": np.array([0])}, r"actions must have shape \(2,\)"),
        ({"actions": np.array([0.5, 1.0])}, "actions must hold integer"),
        ({"rewards": np.zeros((2, 1))}, "rewards must have shape"),
        ({"rewards": np.array([0.0, np.nan])}, "rewards must be finite"),
        ({"terminated": np.array([0, 1])}, "terminated must hold bool"),
        ({"truncated": np.array([False])}, "truncated must have shape"),
        ({"next_action_masks": np.ones((2, 4), bool)}, "without action_mask_size"),
    ],
)
def test_malformed_steps_are_refused_and_leave_the_buffer_unchanged(changes, message):
    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    buffer = ReplayBuffer(10, space, num_envs=2, n_step=2)
    buffer.add(**GOOD_STEP)
    before = pickle.dumps(buffer.state_dict())
    step = {**GOOD_STEP, "obs": np.array([np.ones(3), np.zeros(3)], np.float32), **changes}
    with pytest.raises(ValueError, match=message):
        buffer.add(**step)
    assert pickle.dumps(buffer.state_dict()) == before


def test_masks_are_required_with_the_right_shape_when_configured():
    buffer = ReplayBuffer(10, SCALAR_BOX, action_mask_size=3)
    with pytest.raises(ValueError, match="next_action_masks is required"):
        add_one(buffer, 0, 0, 0.0, 1)
    with pytest.raises(ValueError, match=r"next_action_masks must be a bool array of shape"):
        add_one(buffer, 0, 0, 0.0, 1, mask=[1, 0, 1])


def test_an_obs_that_is_not_the_previous_next_obs_is_refused():
    buffer = ReplayBuffer(10, SCALAR_BOX, num_envs=2)
    buffer.add([[0.0], [5.0]], [0, 0], [0.0, 0.0], [[1.0], [6.0]], [False, True], [False, False])
    buffer.add([[1.0], [50.0]], [0, 0], [0.0, 0.0], [[2.0], [51.0]], [False, False], [False, False])
    with pytest.raises(ValueError, match=r"obs of env\(s\) \[1\] differ"):
        buffer.add([[2.0], [7.0]], [0, 0], [0.0, 0.0], [[3.0], [8.0]], [False] * 2, [False] * 2)


def test_a_continuing_observation_with_nan_is_recognised():
    buffer = ReplayBuffer(10, SCALAR_BOX)
    add_one(buffer, 0.0, 0, 0.0, np.nan)
    add_one(buffer, np.nan, 0, 0.0, 1.0)  # the stored NaN frame, passed back as obs
    assert np.isnan(contents(buffer).observations[1, 0])


def test_observations_that_do_not_fit_the_stored_dtype_are_refused():
    buffer = ReplayBuffer(10, gym.spaces.Box(0, 255, (2,), np.uint8))
    buffer.add([[1, 2]], [0], [0.0], [[3, 4]], [True], [False])  # int64 in range: stored
    with pytest.raises(ValueError, match="obs has values outside the range of uint8"):
        buffer.add([[1, 300]], [0], [0.0], [[3, 4]], [True], [False])
    with pytest.raises(ValueError, match="obs must hold integers"):
        buffer.add([[1.0, 2.5]], [0], [0.0], [[3, 4]], [True], [False])


def test_bad_priority_updates_are_refused():
    buffer = filled_prioritized(3)
    with pytest.raises(ValueError, match="indices"):
        buffer.update_priorities([3], [1.0])
    with pytest.raises(ValueError, match="td_errors"):
        buffer.update_priorities([0, 1], [1.0])
    with pytest.raises(ValueError, match="td_errors must be finite"):
        buffer.update_priorities([0], [np.inf])


ONE_ENV_STEP = {
    "obs": np.ones((1, 3), np.float32),  # the next_obs of GOOD_STEP's first env
    "actions": np.array([0]),
    "rewards": np.array([1.0]),
    "next_obs": np.full((1, 3), 2.0, np.float32),
    "terminated": np.array([False]),
    "truncated": np.array([False]),
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, None),  # the step itself is good
        ({"obs": np.ones((1, 4), np.float32)}, r"obs must have shape \(1, 3\)"),
        ({"obs": np.zeros((1, 3), np.float32)}, r"obs of env\(s\) \[0\] differ"),
        ({"actions": np.array([0.0])}, "actions must hold integer"),
        ({"rewards": np.array([np.inf])}, "rewards must be finite"),
        ({"rewards": np.array([[1.0]])}, "rewards must have shape"),
        ({"terminated": np.array([1])}, "terminated must hold bool"),
        ({"next_action_masks": np.ones((1, 4), bool)}, "without action_mask_size"),
    ],
)
def test_one_env_steps_are_checked_as_any_other(changes, message):
    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    buffer = ReplayBuffer(10, space, n_step=2)
    first = {name: value[:1] for name, value in GOOD_STEP.items()}
    buffer.add(**{**first, "truncated": np.array([False])})
    before = pickle.dumps(buffer.state_dict())
    step = {**ONE_ENV_STEP, **changes}
    if message is None:
        buffer.add(**step)
        assert len(buffer) == 1
        return
    with pytest.raises(ValueError, match=message):
        buffer.add(**step)
    assert pickle.dumps(buffer.state_dict()) == before


@pytest.mark.parametrize("num_envs", [1, 2])
def test_a_continuing_observation_equal_in_value_but_not_in_bits_is_recognised(num_envs):
    zero, negative_zero = np.zeros((num_envs, 1), np.float32), np.full((num_envs, 1), -0.0)
    nan, other_nan = np.array([0x7FC00000, 0x7FC00001], np.uint32).view(np.float32)
    buffer = ReplayBuffer(10, SCALAR_BOX, num_envs=num_envs)
    action, reward, going_on = (
        np.zeros(num_envs, np.int64),
        np.zeros(num_envs),
        np.zeros(num_envs, bool),
    )
    buffer.add(zero, action, reward, negative_zero.astype(np.float32), going_on, going_on)
    buffer.add(zero, action, reward, np.full((num_envs, 1), nan), going_on, going_on)
    buffer.add(np.full((num_envs, 1), other_nan), action, reward, zero, going_on, going_on)
    assert len(buffer) == 3 * num_envs
