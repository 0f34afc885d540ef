"""Both buffers sample the same for the same seed, and so do a reloaded state, the one-env path
and the general path, and frames shared or stored per transition."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

from rlcourse.replay import PrioritizedReplayBuffer, ReplayBuffer
from tests.test_replay_uniform import vector_env_stream

# -- determinism and resume ------------------------------------------------------------------


def make_buffer(kind, seed=0, capacity=50, n_step=3, **settings):
    space = gym.spaces.Box(0, 255, (4, 4), np.uint8)
    return kind(capacity, space, num_envs=3, n_step=n_step, gamma=0.9, seed=seed, **settings)


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
@pytest.mark.parametrize("optimize_memory_usage", [True, False])
def test_state_dict_round_trip_continues_identically(kind, optimize_memory_usage):
    steps = list(vector_env_stream(300, end_rate=0.1))
    original = make_buffer(kind, seed=3, optimize_memory_usage=optimize_memory_usage)
    drive(original, steps[:150])  # wrapped around, with n-step windows open
    if kind is PrioritizedReplayBuffer:
        original.beta = 0.7
    state = pickle.loads(pickle.dumps(original.state_dict()))
    frozen = pickle.dumps(state)

    resumed = make_buffer(kind, seed=99, optimize_memory_usage=optimize_memory_usage)
    resumed.load_state_dict(state)
    assert_same_batches(drive(original, steps[150:]), drive(resumed, steps[150:]))
    assert pickle.dumps(state) == frozen  # the state is a copy, untouched by later adds


def test_loading_a_state_from_a_different_buffer_is_refused():
    state = make_buffer(ReplayBuffer).state_dict()
    with pytest.raises(ValueError, match="capacity=50"):
        make_buffer(ReplayBuffer, capacity=60).load_state_dict(state)
    with pytest.raises(ValueError, match="kind='ReplayBuffer'"):
        make_buffer(PrioritizedReplayBuffer).load_state_dict(state)
    with pytest.raises(ValueError, match="optimize_memory_usage=True"):
        make_buffer(ReplayBuffer, optimize_memory_usage=False).load_state_dict(state)


def test_a_state_saved_before_optimize_memory_usage_existed_loads_as_shared_frames():
    steps = list(vector_env_stream(100))
    original = make_buffer(ReplayBuffer, seed=3)
    drive(original, steps[:50])
    state = original.state_dict()
    del state["settings"]["optimize_memory_usage"]
    resumed = make_buffer(ReplayBuffer)
    resumed.load_state_dict(state)
    assert_same_batches(drive(original, steps[50:]), drive(resumed, steps[50:]))


# -- frames shared or stored per transition --------------------------------------------------


@pytest.mark.parametrize("kind", [ReplayBuffer, PrioritizedReplayBuffer])
@pytest.mark.parametrize(("num_envs", "n_step"), [(1, 1), (1, 3), (3, 3)])
def test_shared_and_own_frames_give_the_same_samples(kind, num_envs, n_step):
    steps = list(vector_env_stream(300, num_envs=num_envs, end_rate=0.1, seed=num_envs))
    settings = {
        "capacity": 40, "observation_space": gym.spaces.Box(0, 255, (4, 4), np.uint8),
        "num_envs": num_envs, "n_step": n_step, "gamma": 0.9, "action_mask_size": 4, "seed": 5,
    }  # fmt: skip
    shared = kind(**settings, optimize_memory_usage=True)
    own = kind(**settings, optimize_memory_usage=False)
    for step in steps:
        shared.add(*step)
        own.add(*step)
        if len(shared) >= 8:
            batch = shared.sample(8)
            assert_same_batches([batch], [own.sample(8)])
            if kind is PrioritizedReplayBuffer:
                for buffer in (shared, own):
                    buffer.update_priorities(batch.indices, batch.rewards - batch.discounts)
    assert own.frame_store.in_use >= 2 * len(own) > shared.frame_store.in_use


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
        assert all(fast._step_format.is_plain(*step[:6]) for step in steps)
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
