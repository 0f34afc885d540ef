"""rlcourse/Highway-v0, HighwayFast-v0, Merge-v0 and Roundabout-v0: API checks for every
observation and action type, seeded determinism, action masks at the road's edges, rewards
and metrics, the batch API, the IDM baseline, rendering, and the roundabout's route."""

from __future__ import annotations

import os
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the ids)
from envs.driving import Action, DrivingBatch, DrivingConfig, DrivingEnv, idm_ego_policy
from envs.driving.observations import KINEMATICS_FEATURES

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
IDS = (
    "rlcourse/Highway-v0",
    "rlcourse/HighwayFast-v0",
    "rlcourse/Merge-v0",
    "rlcourse/Roundabout-v0",
)
SMALL = {"vehicles": 8, "duration": 8.0}


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("observation", ["kinematics", "occupancy_grid", "rgb"])
@pytest.mark.parametrize("action", ["discrete", "continuous"])
def test_passes_gymnasium_and_sb3_checks(env_id, observation, action):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id, observation=observation, action=action, **SMALL).unwrapped
    check_env(env, skip_render_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SB3 remarks on [C, H, W] images and Box bounds
        sb3_check_env(env)


def rollout(env: gym.Env, seed: int, steps: int = 15) -> list:
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    trace = [obs.tobytes()]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(int(rng.integers(5)))
        trace.append((obs.tobytes(), reward, info["speed"]))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs.tobytes())
    return trace


@pytest.mark.parametrize("env_id", IDS)
def test_same_seed_same_episode(env_id):
    make = lambda: gym.make(env_id, vehicles=10)  # noqa: E731
    assert rollout(make(), 3) == rollout(make(), 3)
    assert rollout(make(), 3) != rollout(make(), 4)


def place_ego(env: DrivingEnv, lane: int, x: float | None = None) -> None:
    v = env.sim.vehicles
    v.y[0, 0] = env.sim.road.lane_center(lane)
    v.target_lane[0, 0] = lane
    if x is not None:
        v.x[0, 0] = x


def test_lane_change_mask_at_the_road_edges():
    env = DrivingEnv(lanes=3, vehicles=0)
    env.reset(seed=0)
    expected = {0: (False, True), 1: (True, True), 2: (True, False)}
    for lane, (left, right) in expected.items():
        place_ego(env, lane)
        mask = env.sim.action_mask()[0]
        assert (mask[Action.LANE_LEFT], mask[Action.LANE_RIGHT]) == (left, right), lane
        assert mask[Action.IDLE]


def test_masked_lane_change_does_nothing_and_unmasked_one_moves_the_ego():
    env = DrivingEnv(lanes=2, vehicles=0)
    env.reset(seed=0)
    place_ego(env, 0)
    _, _, _, _, info = env.step(Action.LANE_LEFT)
    assert info["lane"] == 0 and info["rewards"]["lane_change"] == 0.0
    _, _, _, _, info = env.step(Action.LANE_RIGHT)
    assert info["lane"] == 1 and env.sim.vehicles.target_lane[0, 0] == 1
    assert not info["action_mask"][Action.LANE_RIGHT]


def test_merge_ego_may_never_move_onto_the_ramp():
    env = DrivingEnv(scenario="merge", lanes=2, vehicles=0, ramp_vehicles=0)
    env.reset(seed=0)
    place_ego(env, 1, x=250.0)  # inside the merge zone, rightmost main lane
    assert not env.sim.action_mask()[0, Action.LANE_RIGHT]


def test_speed_mask_at_the_ends_of_the_target_speeds():
    env = DrivingEnv(vehicles=0)
    _, info = env.reset(seed=0)
    assert env.sim.target_speeds[env.sim.speed_index[0]] == 25.0
    _, _, _, _, info = env.step(Action.FASTER)
    assert not info["action_mask"][Action.FASTER] and info["action_mask"][Action.SLOWER]
    env.step(Action.SLOWER)
    _, _, _, _, info = env.step(Action.SLOWER)
    assert info["action_mask"][Action.FASTER] and not info["action_mask"][Action.SLOWER]


def test_reward_terms_by_hand_on_an_empty_road():
    env = DrivingEnv(lanes=3, vehicles=0)
    env.reset(seed=0)
    place_ego(env, 2)
    env.step(Action.FASTER)  # one second towards 30 m/s from 25 m/s
    _, reward, terminated, truncated, info = env.step(Action.IDLE)
    speed = info["speed"]
    terms = info["rewards"]
    assert terms["high_speed"] == pytest.approx(0.4 * (speed - 20) / 10)
    assert terms["right_lane"] == pytest.approx(0.1) and terms["collision"] == 0.0
    assert reward == pytest.approx((sum(terms.values()) + 1) / 1.5)  # normalised onto [0, 1]
    assert not terminated and not truncated


def test_collision_terminates_with_metrics():
    env = DrivingEnv(lanes=1, vehicles=1, truck_fraction=0.0)
    env.reset(seed=0)
    v = env.sim.vehicles
    v.x[0, 1], v.speed[0, 1], v.target_speed[0, 1] = v.x[0, 0] + 12.0, 0.0, 0.0
    _, reward, terminated, _, info = env.step(Action.FASTER)
    assert terminated and info["crashed"] and info["collision"] == 1.0
    assert info["rewards"]["collision"] == -1.0 and reward == 0.0  # (-1 + 1) / 1.5
    assert 0 < info["distance"] < 12.0 and info["mean_speed"] == 0.0  # stopped dead


def test_leaving_the_road_terminates():
    env = DrivingEnv(vehicles=0, action="continuous")
    env.reset(seed=0)
    place_ego(env, 0)
    for _ in range(10):  # steer left (a 21 m radius) off lane 0
        _, reward, terminated, _, _ = env.step(np.array([0.0, -0.3], np.float32))
        if terminated:
            break
    assert terminated and reward == 0.0


def test_truncates_at_the_duration():
    env = DrivingEnv(vehicles=0, duration=3.0, policy_frequency=1)
    env.reset(seed=0)
    flags = [env.step(Action.IDLE)[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_kinematics_rows_for_the_attention_encoder():
    env = DrivingEnv(vehicles=2, observed_vehicles=5)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (5, len(KINEMATICS_FEATURES)) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[:, 0], [1, 1, 1, 0, 0])  # ego + 2 present, 2 absent
    assert not obs[3:].any()
    v = env.sim.vehicles
    nearest = 1 + np.argmin(np.abs(v.x[0, 1:] - v.x[0, 0]))
    assert obs[1, 1] == pytest.approx((v.x[0, nearest] - v.x[0, 0]) / 100, abs=1e-6)


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="lanse"):
        DrivingEnv(lanse=3)
    with pytest.raises(ValueError, match="lanes=0"):
        DrivingEnv(lanes=0)
    with pytest.raises(ValueError, match="multiple"):
        DrivingEnv(simulation_frequency=15, policy_frequency=2)
    with pytest.raises(ValueError, match="action must be"):
        DrivingEnv().step(7)


def test_batch_autoresets_and_matches_its_seed():
    config = DrivingConfig(vehicles=6, duration=3.0)
    runs = []
    for _ in range(2):
        batch = DrivingBatch(config, num_envs=4, seed=5)
        obs, info = batch.reset()
        assert obs.shape == (4, 5, 7) and info["action_mask"].shape == (4, 5)
        outs = [batch.step(np.full(4, Action.IDLE)) for _ in range(3)]
        runs.append(outs)
    obs, reward, terminated, truncated, infos = runs[0][-1]
    assert (terminated | truncated).all() and reward.shape == (4,) and obs.shape == (4, 5, 7)
    assert sorted(infos["final_obs"]) == [0, 1, 2, 3]
    assert (infos["time"] == 0).all()  # already restarted
    np.testing.assert_array_equal(runs[0][-1][0], runs[1][-1][0])


def test_idm_baseline_drives_without_collisions():
    env = DrivingEnv(action="continuous", vehicles=30, duration=30.0)
    env.reset(seed=1)
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(idm_ego_policy(env))
        done = terminated or truncated
    assert truncated and info["collision"] == 0.0 and info["mean_speed"] > 15.0


def test_renders_frames_that_follow_the_ego(tmp_path):
    from rlcourse.render import save_png

    env = gym.make("rlcourse/Merge-v0", render_mode="rgb_array", action="continuous")
    env.reset(seed=0)
    first = env.render()
    for _ in range(3):
        env.step(idm_ego_policy(env))
    later = env.render()
    assert first.shape == later.shape and first.dtype == np.uint8
    ego = (50, 200, 0)
    for frame in (first, later):  # the ego stays a third of the way across
        cols = np.flatnonzero((frame == ego).all(axis=2).any(axis=0))
        assert abs(cols.mean() - frame.shape[1] / 3) < 20
    assert save_png(later, tmp_path / "merge.png").stat().st_size > 0
    env.close()


def test_renders_the_whole_roundabout(tmp_path):
    from rlcourse.render import save_png

    env = gym.make("rlcourse/Roundabout-v0", render_mode="rgb_array", ramp_vehicles=0)
    env.reset(seed=2)
    frames = [env.render()]
    for action in (Action.SLOWER, Action.SLOWER, Action.IDLE, Action.IDLE):
        env.step(action)
        frames.append(env.render())
    ego = (50, 200, 0)
    centres = []
    for frame in frames:
        assert frame.shape[0] == frame.shape[1] + 28  # the square ring view under the strip
        rows, cols = np.nonzero((frame == ego).all(axis=2))
        centres.append((cols.mean() - frame.shape[1] / 2, (rows.mean() - 28) - frame.shape[1] / 2))
    drawer, road = env.unwrapped._renderer, env.unwrapped.sim.road
    ring_px = drawer._radius((road.lanes - 0.5) * road.lane_width) * drawer.scale
    distances = [np.hypot(dx, dy) for dx, dy in centres]
    assert distances[0] > ring_px + 2 * road.lane_width * drawer.scale  # out on the entry road
    assert (np.diff(distances) < 0).all()  # driving in towards the ring
    angles = np.arctan2([-dy for _, dy in centres], [dx for dx, _ in centres])
    assert (angles > 0).all() and (angles < np.pi / 2).all()  # north-east, where it meets it
    assert save_png(frames[-1], tmp_path / "roundabout.png").stat().st_size > 0
    env.close()


def test_roundabout_ego_merges_and_leaves_on_the_far_side():
    env = gym.make("rlcourse/Roundabout-v0", ramp_vehicles=0, vehicles=0, duration=60.0)
    _, info = env.reset(seed=0)
    road = env.unwrapped.config.road
    lanes, terminated = [info["lane"]], False
    while not terminated:
        action = Action.LANE_LEFT if info["action_mask"][Action.LANE_LEFT] else Action.IDLE
        _, _, terminated, truncated, info = env.step(action)
        lanes.append(info["lane"])
        assert not truncated
    assert lanes[0] == road.ramp_lane and lanes[-1] == 0  # from the entry to the inner lane
    assert info["collision"] == 0.0 and info["distance"] == pytest.approx(road.length, abs=25.0)


def test_roundabout_refuses_more_traffic_than_fits():
    # a 40 m ring is 251 m round: 15 vehicles at one per 16 m; its entry lane (35 % of a lap,
    # less the 15 m stop margin) holds 4 more at one per 15 m
    with pytest.raises(ValueError, match=r"vehicles=16 do not fit.*at most 15"):
        DrivingConfig(scenario="roundabout", vehicles=16)
    with pytest.raises(ValueError, match=r"ramp_vehicles=5 do not fit.*at most 4"):
        DrivingConfig(scenario="roundabout", vehicles=15, ramp_vehicles=5)
    assert DrivingConfig(scenario="roundabout", vehicles=15, ramp_vehicles=4).total_vehicles == 20


def load_play_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "play.py"
    spec = importlib.util.spec_from_file_location("script_play_driving", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_play_arrow_keys_give_meta_actions_once():
    import pygame

    play = load_play_script()
    session = play.DrivingSession()
    expected = {pygame.K_UP: Action.LANE_LEFT, pygame.K_DOWN: Action.LANE_RIGHT,
                pygame.K_RIGHT: Action.FASTER, pygame.K_LEFT: Action.SLOWER}  # fmt: skip
    for key, action in expected.items():
        session.handle(pygame.event.Event(pygame.KEYDOWN, key=key))
        assert session.next_action() == action
        assert session.next_action() == Action.IDLE  # a key press acts once
    session.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
    assert not session.running


def test_play_driving_needs_a_display(capsys):
    play = load_play_script()
    assert play.main(["driving", "--env", "rlcourse/Merge-v0"]) == 2
    assert "display" in capsys.readouterr().err


def test_kinematics_feed_the_entity_attention_encoder():
    import torch

    from rlcourse.nn.attention import EntityAttentionEncoder

    torch.set_num_threads(1)
    batch = DrivingBatch(DrivingConfig(vehicles=3, observed_vehicles=6), num_envs=4, seed=0)
    obs, _ = batch.reset()
    entities = torch.as_tensor(obs)
    mask = entities[..., 0] > 0.5
    assert mask.sum(dim=1).tolist() == [4, 4, 4, 4]  # the ego and 3 others, 2 rows absent
    encoder = EntityAttentionEncoder(len(KINEMATICS_FEATURES), embed_dim=16, num_heads=2)
    encoding = encoder(entities, mask)
    assert encoding.pooled.shape == (4, 16) and torch.isfinite(encoding.pooled).all()


def test_occupancy_grid_by_hand():
    env = DrivingEnv(lanes=4, vehicles=1, observation="occupancy_grid", truck_fraction=0.0)
    env.reset(seed=0)
    v = env.sim.vehicles
    place_ego(env, 2)  # y = 8 m; the road spans y in [-2, 14] m
    v.x[0, 1], v.y[0, 1], v.speed[0, 1] = v.x[0, 0] + 11.0, 12.0, 20.0  # 2 cells on, 1 across
    grid = env.sim.observation()[0]
    presence, vx, _, on_road = grid
    assert presence[5, 5] == 1 and presence[6, 7] == 1 and presence.sum() == 2
    assert vx[6, 7] == pytest.approx(20.0 / 80.0)
    # cell rows are 5 m apart, centred on the ego: rows 3..6 (y = -2..13 m) lie on the road
    np.testing.assert_array_equal(on_road[:, 0], [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0])


def test_a_recorded_episode_draws_every_simulation_step_and_drives_the_same():
    from rlcourse.render import record_episode

    def actions():
        rng = np.random.default_rng(0)
        return lambda obs, info: int(rng.choice(np.flatnonzero(info["action_mask"])))

    drawn = gym.make("rlcourse/Highway-v0", render_mode="rgb_array")
    frames, total = record_episode(drawn, actions(), seed=3, max_steps=4)
    assert len(frames) == 1 + 4 * 15 and drawn.metadata["substep_fps"] == 15  # 15 Hz, 1 Hz
    plain = gym.make("rlcourse/Highway-v0")  # the compiled step, no pictures
    obs, info = plain.reset(seed=3)
    act, replayed = actions(), 0.0
    for _ in range(4):
        obs, reward, *_, info = plain.step(act(obs, info))
        replayed += reward
    assert replayed == total
    np.testing.assert_array_equal(obs, drawn.unwrapped.sim.observation()[0])
