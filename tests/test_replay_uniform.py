"""Uniform replay: n-step returns by hand, compact storage against a naive reference (frames
shared or not), memory, sampling and argument errors."""

import collections
import pickle
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import pytest

from rlcourse.replay import ReplayBatch, ReplayBuffer

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
@pytest.mark.parametrize("optimize_memory_usage", [True, False])
def test_compact_storage_equals_a_naive_reference_through_many_wrap_arounds(
    capacity, n_step, end_rate, optimize_memory_usage
):
    buffer = ReplayBuffer(
        capacity, gym.spaces.Box(0, 255, (4, 4), np.uint8), num_envs=3, n_step=n_step,
        gamma=0.9, action_mask_size=4, optimize_memory_usage=optimize_memory_usage,
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


def test_without_shared_frames_each_transition_holds_two_frames():
    buffer = ReplayBuffer(
        10, gym.spaces.Box(0, 255, (4, 4), np.uint8), num_envs=3, n_step=3,
        optimize_memory_usage=False,
    )  # fmt: skip
    for step in vector_env_stream(100, end_rate=0.2):
        buffer.add(*step[:-1])
        # plus the first frames of the open windows: at most n_step - 1 per env
        assert 2 * len(buffer) <= buffer.frame_store.in_use <= 2 * len(buffer) + 3 * 2
        assert buffer.frame_store.slots == 2 * 10 + 3 * 2 * 3  # never grew


# -- errors ----------------------------------------------------------------------------------


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


def test_without_shared_frames_obs_need_not_be_the_previous_next_obs():
    buffer = ReplayBuffer(10, SCALAR_BOX, num_envs=2, optimize_memory_usage=False)
    buffer.add([[0.0], [5.0]], [0, 0], [0.0, 0.0], [[1.0], [6.0]], [False] * 2, [False] * 2)
    buffer.add([[1.5], [7.0]], [0, 0], [0.0, 0.0], [[2.0], [8.0]], [False] * 2, [False] * 2)
    np.testing.assert_array_equal(contents(buffer).observations[:, 0], [0, 5, 1.5, 7])
    np.testing.assert_array_equal(contents(buffer).next_observations[:, 0], [1, 6, 2, 8])


def test_optimize_memory_usage_must_be_a_bool():
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        ReplayBuffer(10, SCALAR_BOX, optimize_memory_usage=1)


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


# ----------------------------------------------------------------------------- Box actions

ACTION_BOX = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)


@pytest.mark.parametrize("num_envs", [1, 3])
@pytest.mark.parametrize("shared", [True, False])
def test_box_actions_are_stored_as_float32_vectors_and_survive_a_state_dict(num_envs, shared):
    buffer = ReplayBuffer(
        10, SCALAR_BOX, num_envs, n_step=2, gamma=0.5, seed=0,
        optimize_memory_usage=shared, action_space=ACTION_BOX,
    )  # fmt: skip
    obs = 100 * np.arange(num_envs, dtype=np.float32)[:, None]  # env e starts at 100 e
    for t in range(6):
        actions = np.concatenate([obs, -obs / 10], axis=1)  # the action names its observation
        next_obs = obs + 1
        ended = np.full(num_envs, t == 3)
        buffer.add(obs, actions, np.ones(num_envs), next_obs, ended, np.zeros(num_envs, bool))
        obs = next_obs
    stored = contents(buffer)
    assert stored.actions.dtype == np.float32 and stored.actions.shape == (len(buffer), 2)
    # each 2-step window keeps the action taken at its first observation
    assert np.array_equal(stored.actions[:, 0], stored.observations[:, 0])
    assert np.allclose(stored.actions[:, 1], -stored.observations[:, 0] / 10)
    copy = ReplayBuffer(
        10, SCALAR_BOX, num_envs, n_step=2, gamma=0.5, seed=1,
        optimize_memory_usage=shared, action_space=ACTION_BOX,
    )  # fmt: skip
    copy.load_state_dict(pickle.loads(pickle.dumps(buffer.state_dict())))
    assert np.array_equal(copy.sample(5).actions, buffer.sample(5).actions)


def test_box_actions_of_the_wrong_shape_or_not_finite_are_refused():
    buffer = ReplayBuffer(10, SCALAR_BOX, 1, action_space=ACTION_BOX)
    step = dict(obs=np.zeros((1, 1), np.float32), rewards=np.ones(1),
                next_obs=np.ones((1, 1), np.float32), terminated=np.zeros(1, bool),
                truncated=np.zeros(1, bool))  # fmt: skip
    with pytest.raises(ValueError, match=r"actions must be numbers of shape \(1, 2\)"):
        buffer.add(actions=np.zeros(1), **step)
    with pytest.raises(ValueError, match="actions must be finite"):
        buffer.add(actions=np.array([[np.nan, 0.0]], np.float32), **step)


def test_a_state_of_discrete_actions_does_not_load_into_a_box_action_buffer():
    discrete = ReplayBuffer(10, SCALAR_BOX, 1)
    add_one(discrete, 0, 1, 1.0, 1)
    with pytest.raises(ValueError, match="action_shape"):
        ReplayBuffer(10, SCALAR_BOX, 1, action_space=ACTION_BOX).load_state_dict(
            discrete.state_dict()
        )
