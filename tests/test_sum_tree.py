"""SumTree: totals, minimum, prefix search against np.searchsorted, sampling in proportion."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from rlcourse.replay.sum_tree import SumTree

# 1 and 3: not powers of two; 1024: the search is one searchsorted; 1025 and 5000: it
# descends below the searchsorted level
CAPACITIES = [1, 3, 5, 1000, 1024, 1025, 5000]


def filled(values) -> SumTree:
    tree = SumTree(len(values))
    tree.update(np.arange(len(values)), values)
    return tree


def reference_find(values, prefix_sums):
    """The first index whose cumulative sum exceeds s; past the total, the last positive one."""
    cumulative = np.cumsum(values)
    found = np.searchsorted(cumulative, prefix_sums, side="right")
    return np.minimum(found, np.flatnonzero(np.asarray(values) > 0)[-1])


@pytest.mark.parametrize("capacity", [0, -3, 2.5, True, "8"])
def test_capacity_must_be_a_positive_integer(capacity):
    with pytest.raises(ValueError, match="capacity"):
        SumTree(capacity)


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_total_min_and_values_for_any_capacity(capacity):
    values = np.random.default_rng(capacity).random(capacity) + 0.01
    tree = filled(values)
    assert tree.total == pytest.approx(values.sum(), rel=1e-12)
    assert tree.min == values.min()
    np.testing.assert_array_equal(tree[np.arange(capacity)], values)


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_find_matches_searchsorted_on_the_cumulative_sum(capacity):
    rng = np.random.default_rng(capacity)
    # integer values (zeros among them) keep every sum exact, so the answer is unambiguous
    values = rng.integers(0, 5, size=capacity).astype(float)
    values[-1] = 1.0
    tree = filled(values)
    prefix_sums = np.concatenate([rng.random(500) * values.sum(), np.cumsum(values)[:-1]])
    np.testing.assert_array_equal(tree.find(prefix_sums), reference_find(values, prefix_sums))


def test_find_on_a_hand_made_tree():
    tree = filled([1.0, 0.0, 0.0, 2.0, 0.0, 3.0, 0.0])
    # cumulative sums: 1, 1, 1, 3, 3, 6, 6: [0, 1) -> 0, [1, 3) -> 3, [3, 6) -> 5
    found = tree.find([0.0, 0.999, 1.0, 2.5, 3.0, 5.999])
    np.testing.assert_array_equal(found, [0, 0, 3, 3, 5, 5])


def test_find_at_or_past_the_total_returns_the_last_positive_value():
    tree = filled([1.0, 0.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(tree.find([3.0, 30.0, np.nextafter(3.0, 0.0)]), [2, 2, 2])


def test_find_does_not_follow_rounding_into_a_zero_leaf():
    # v = the largest float below fl(a + b) leaves fl(v - a) == b: the search arrives at b's
    # parent with a value equal to b, one step short of sliding into the 0 to b's right
    a, b = float.fromhex("0x1.fe924cfaebfdep+1"), float.fromhex("0x1.0da13fedbf57ep+3")
    v = np.nextafter(a + b, 0.0)
    assert v >= a and v - a == b
    tree = SumTree(4096)  # deep enough that leaves 0..3 are reached by descending two levels
    tree.update([0, 2], [a, b])  # leaves: a, 0, b, 0
    np.testing.assert_array_equal(tree.find([v, tree.total]), [2, 2])


def test_find_never_lands_on_a_zero_value_whatever_the_rounding():
    rng = np.random.default_rng(0)
    for capacity in (7, 1500, 3000):
        values = rng.random(capacity) ** 8  # spans many orders of magnitude
        values[rng.random(capacity) < 0.3] = 0.0
        values[0] = 1e-3
        tree = filled(values)
        total = tree.total
        edges = np.concatenate([np.cumsum(values), [total, np.nextafter(total, 0.0)]])
        found = tree.find(np.minimum(edges, total))
        assert np.all(values[found] > 0)


def test_min_counts_only_values_that_were_set():
    tree = SumTree(5)
    assert tree.min == np.inf
    tree.update([2], [3.0])
    assert tree.min == 3.0
    tree.update([0], [0.5])
    assert tree.min == 0.5
    tree.update([0], [4.0])
    assert tree.min == 3.0


def test_a_repeated_index_takes_its_last_value():
    tree = SumTree(4)
    tree.update([1, 1, 2, 1], [5.0, 6.0, 1.0, 7.0])
    np.testing.assert_array_equal(tree[[0, 1, 2, 3]], [0.0, 7.0, 1.0, 0.0])
    assert tree.total == 8.0


def test_bad_updates_and_searches_are_refused():
    tree = SumTree(4)
    with pytest.raises(ValueError, match="indices"):
        tree.update([4], [1.0])
    with pytest.raises(ValueError, match="indices"):
        tree.update([0.5], [1.0])
    with pytest.raises(ValueError, match="values"):
        tree.update([0, 1], [1.0])
    for bad in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="values"):
            tree.update([0], [bad])
    with pytest.raises(ValueError, match="all 0"):
        tree.find([0.0])
    tree.update([0], [1.0])
    with pytest.raises(ValueError, match="prefix_sums"):
        tree.find([-0.5])
    with pytest.raises(ValueError, match="batch_size"):
        tree.sample(np.random.default_rng(0), 0)


def test_find_draws_in_proportion_to_value():
    values = np.arange(1.0, 11.0)
    tree = filled(values)
    draws = tree.find(np.random.default_rng(1).random(20_000) * tree.total)
    counts = np.bincount(draws, minlength=10)
    assert chisquare(counts, 20_000 * values / values.sum()).pvalue > 1e-3


def test_stratified_sample_draws_in_proportion_to_value_at_scale():
    rng = np.random.default_rng(2)
    values = rng.random(3000) + 0.1
    tree = filled(values)
    draws = np.concatenate([tree.sample(rng, 64) for _ in range(313)])
    bins = 20  # 150 neighbouring indices per bin, so that every cell expects hundreds
    counts = np.bincount(draws // 150, minlength=bins)
    expected = len(draws) * values.reshape(bins, 150).sum(axis=1) / values.sum()
    assert chisquare(counts, expected).pvalue > 1e-3


def test_stratified_sample_takes_one_draw_from_each_segment():
    tree = filled([1.0, 1.0, 1.0, 1.0])
    for seed in range(20):
        np.testing.assert_array_equal(tree.sample(np.random.default_rng(seed), 4), [0, 1, 2, 3])


def test_sample_depends_only_on_the_generator():
    tree = filled(np.random.default_rng(3).random(100))
    first = tree.sample(np.random.default_rng(7), 32)
    np.testing.assert_array_equal(first, tree.sample(np.random.default_rng(7), 32))
    assert not np.array_equal(first, tree.sample(np.random.default_rng(8), 32))


def test_state_dict_round_trip_is_exact():
    rng = np.random.default_rng(4)
    tree = SumTree(1500)
    for _ in range(50):  # incremental updates, with repeats and never-set leaves
        indices = rng.integers(0, 1400, size=64)
        tree.update(indices, rng.random(64))
    copy = SumTree(1500)
    copy.load_state_dict(tree.state_dict())
    assert (copy.total, copy.min) == (tree.total, tree.min)
    prefix_sums = rng.random(1000) * tree.total
    np.testing.assert_array_equal(copy.find(prefix_sums), tree.find(prefix_sums))
    with pytest.raises(ValueError, match="capacity"):
        SumTree(1499).load_state_dict(tree.state_dict())


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 6), min_size=1, max_size=2100).filter(any),
    fractions=st.lists(st.floats(0.0, 1.5), min_size=1, max_size=20),
)
def test_find_agrees_with_searchsorted_on_any_integer_tree(values, fractions):
    values = np.asarray(values, dtype=float)
    prefix_sums = np.asarray(fractions) * values.sum()
    np.testing.assert_array_equal(
        filled(values).find(prefix_sums), reference_find(values, prefix_sums)
    )


def test_small_and_large_updates_build_the_same_tree():
    rng = np.random.default_rng(5)
    one_by_one, batched = SumTree(3000), SumTree(3000)
    for _ in range(20):
        indices, values = rng.integers(0, 3000, size=40), rng.random(40)
        for index, value in zip(indices, values, strict=True):
            one_by_one.update([index], [value])
        batched.update(indices, values)
    assert (one_by_one.total, one_by_one.min) == (batched.total, batched.min)
    prefix_sums = rng.random(500) * batched.total
    np.testing.assert_array_equal(one_by_one.find(prefix_sums), batched.find(prefix_sums))


def test_zeros_of_either_sign_build_the_same_tree_one_by_one_and_batched():
    # -0.0 is kept as 0.0: otherwise which zero a minimum holds would depend on the path
    rng = np.random.default_rng(6)
    one_by_one, batched = SumTree(300), SumTree(300)
    for _ in range(20):
        indices, values = rng.integers(0, 300, size=40), rng.choice([0.0, -0.0, 0.5, 2.0], 40)
        for index, value in zip(indices, values, strict=True):
            one_by_one.update([index], [value])
        batched.update(indices, values)
    for tree in (one_by_one, batched):
        assert not np.any(np.signbit(tree[np.arange(300)]))
        assert tree.min == 0.0 and math.copysign(1.0, tree.min) == 1.0
    assert one_by_one.total == batched.total
    prefix_sums = rng.random(500) * batched.total
    np.testing.assert_array_equal(one_by_one.find(prefix_sums), batched.find(prefix_sums))


@pytest.mark.parametrize("count", [1, 3, 8, 9, 40])  # one by one up to 8, then batched
def test_fill_sets_one_value_as_update_does(count):
    rng = np.random.default_rng(count)
    values = rng.random(3000)
    filled_tree, updated = filled(values), filled(values)
    for value in (0.25, 3.0, 1e-3):
        indices = rng.choice(3000, size=count, replace=False)
        filled_tree.fill(indices.tolist(), value)
        updated.update(indices, np.full(count, value))
    assert (filled_tree.total, filled_tree.min) == (updated.total, updated.min)
    np.testing.assert_array_equal(filled_tree[np.arange(3000)], updated[np.arange(3000)])
    prefix_sums = rng.random(500) * updated.total
    np.testing.assert_array_equal(filled_tree.find(prefix_sums), updated.find(prefix_sums))


def test_bad_fills_are_refused_and_change_nothing():
    tree = filled([1.0, 2.0, 3.0, 4.0])
    for indices in ([4], [0, -1], [0.5], [True]):
        with pytest.raises(ValueError, match="indices"):
            tree.fill(indices, 1.0)
    for value in (-1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="values"):
            tree.fill([0], value)
    np.testing.assert_array_equal(tree[[0, 1, 2, 3]], [1.0, 2.0, 3.0, 4.0])
    assert (tree.total, tree.min) == (10.0, 1.0)
