"""The map format: shipped layouts parse, user files work, malformed maps name line and column."""

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.gridworld import LAYOUTS, Cell, GridWorldEnv, MapError, load_map, maze_map, parse_map

VALID = """\
# a comment
name: Tiny
step_reward: -1
terminals: G=+1 N=-1
grid:
S.#G
..~N
"""


def test_parse_valid_map():
    m = parse_map(VALID, source="tiny.txt")
    assert m.name == "Tiny"
    assert m.shape == (2, 4)
    assert m.step_reward == -1.0
    assert dict(m.terminal_rewards) == {"G": 1.0, "N": -1.0}
    cells = m.cell_types()
    assert cells[0, 2] == Cell.WALL
    assert cells[1, 2] == Cell.ICE
    assert cells[0, 3] == cells[1, 3] == Cell.TERMINAL
    assert m.start_mask()[0, 0] and m.start_mask().sum() == 1
    assert m.terminal_reward_grid()[1, 3] == -1.0


def test_header_defaults_and_fractions():
    m = parse_map("ice_slip: 2/3\nterminals: G=0\ngrid:\nS~G\n")
    assert m.ice_slip == pytest.approx(2 / 3)
    assert (m.slip, m.moves, m.stochastic_wind, m.cliff_reward) == (0.0, 4, False, -100.0)
    assert m.name == "gridworld"
    assert not m.has_wind and m.wind_per_column().tolist() == [0, 0, 0]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_layout_loads_and_round_trips(name):
    m = load_map(name)
    again = parse_map(m.to_text())
    assert again.rows == m.rows
    for attr in (
        "step_reward",
        "slip",
        "ice_slip",
        "wind",
        "stochastic_wind",
        "moves",
        "cliff_reward",
        "hole_reward",
        "name",
    ):
        assert getattr(again, attr) == getattr(m, attr), attr
    assert dict(again.terminal_rewards) == dict(m.terminal_rewards)


def test_textbook_layouts_have_their_textbook_shapes():
    assert load_map("sutton_barto_4x4").shape == (4, 4)
    rn = load_map("russell_norvig_4x3")
    assert rn.shape == (3, 4) and rn.rows[1][1] == "#" and rn.slip == pytest.approx(0.2)
    cliff = load_map("cliff")
    assert cliff.shape == (4, 12) and cliff.rows[3] == "SCCCCCCCCCCG"
    windy = load_map("windy")
    assert windy.shape == (7, 10) and windy.rows[3][0] == "S" and windy.rows[3][7] == "G"
    assert windy.wind == (0, 0, 0, 1, 1, 1, 2, 2, 1, 0)
    assert load_map("windy_kings").moves == 8
    assert load_map("windy_kings_stay").moves == 9
    stochastic = load_map("windy_stochastic")
    assert stochastic.stochastic_wind and stochastic.moves == 8
    ice = load_map("slippery_ice")
    assert {Cell.ICE, Cell.HOLE, Cell.WALL} <= set(np.unique(ice.cell_types()).tolist())


def test_maze_file_is_the_generated_maze():
    generated = maze_map(size=100, seed=0, braid=0.1)
    shipped = load_map("maze100")
    assert shipped.rows == generated.rows
    assert shipped.shape == (100, 100)
    assert maze_map(size=21, seed=3).rows == maze_map(size=21, seed=3).rows
    assert maze_map(size=21, seed=3).rows != maze_map(size=21, seed=4).rows


def test_user_map_file(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text(VALID)
    env = GridWorldEnv(map=path)
    assert env.grid.source == str(path) and env.n_rows == 2
    env2 = gym.make("rlcourse/GridWorld-v0", map=str(path))
    obs, _ = env2.reset(seed=0)
    assert obs == 0
    obs, reward, terminated, _, _ = env2.step(2)  # down
    assert (obs, reward, terminated) == (4, -1.0, False)


def test_unknown_layout_name():
    with pytest.raises(FileNotFoundError, match="layout name"):
        load_map("no_such_layout")


def _error(text: str) -> MapError:
    with pytest.raises(MapError) as info:
        parse_map(text, source="bad.txt")
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err).startswith(f"bad.txt, line {err.line}, column {err.column}: ")
    return err


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        # ragged rows: the short row, just past its end
        ("terminals: G=0\ngrid:\nS..\n.G\n", 4, 3, "ragged"),
        # a long row: the first extra cell
        ("terminals: G=0\ngrid:\nS..\n.G..\n", 4, 4, "ragged"),
        # unknown character
        ("terminals: G=0\ngrid:\nS.x\n.G.\n", 3, 3, "unknown character 'x'"),
        # a space inside the grid
        ("terminals: G=0\ngrid:\nS .\n.G.\n", 3, 2, "unknown character ' '"),
        # no start: the grid line
        ("# c\nterminals: G=0\ngrid:\n...\n.G.\n", 3, 1, "no start"),
        # no terminal at all
        ("step_reward: -1\ngrid:\nS..\n...\n", 2, 1, "no terminal"),
        # a letter without a reward
        ("terminals: G=0\ngrid:\nS.G\n.X.\n", 4, 2, "'X' has no reward"),
        # bad header values: the column where the value starts
        ("step_reward: lots\nterminals: G=0\ngrid:\nSG\n", 1, 14, "step_reward"),
        ("terminals: G=0\nslip: 1.5\ngrid:\nSG\n", 2, 7, "outside [0, 1]"),
        ("terminals: G=0\nmoves: 6\ngrid:\nSG\n", 2, 8, "4, 8 or 9"),
        ("terminals: G=0\nstochastic_wind: maybe\ngrid:\nSG\n", 2, 18, "true or false"),
        ("terminals: G=0\nwind: 0 1 2\ngrid:\nSG\n", 2, 7, "3 wind values"),
        ("terminals: G=0\nwind: 0 x\ngrid:\nSG\n", 2, 9, "'x' is not an integer"),
        ("terminals: G=1 S=2\ngrid:\nSG\n", 1, 16, "other than S, C, O"),
        ("terminals: G=1 H=oops\ngrid:\nSGH\n", 1, 18, "bad reward"),
        ("terminals: G=0\ncolour: red\ngrid:\nSG\n", 2, 1, "unknown header key"),
        ("terminals: G=0\nterminals: H=0\ngrid:\nSG\n", 2, 1, "twice"),
        ("terminals: G=0\nS.G\n", 2, 1, "expected 'key: value'"),
        ("terminals: G=0\n", 1, 1, "no 'grid:'"),
        ("terminals: G=0\ngrid:\n\n", 2, 1, "empty"),
        ("terminals: G=0\ngrid: SG\n", 2, 7, "nothing may follow"),
    ],
)
def test_malformed_maps_name_line_and_column(text, line, column, words):
    err = _error(text)
    assert (err.line, err.column) == (line, column), str(err)
    assert words in str(err)


def test_unreachable_goal_is_allowed():
    m = parse_map("terminals: G=0\ngrid:\nS#G\n")
    env = GridWorldEnv(m)
    assert env.mdp.terminal[2]


def test_map_error_from_a_file_names_the_file(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_text("terminals: G=0\ngrid:\nS..\n.G\n")
    with pytest.raises(MapError, match=r"broken\.txt, line 4, column 3: ragged"):
        GridWorldEnv(map=path)
