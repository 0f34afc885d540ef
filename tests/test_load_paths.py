"""Every path that reads an agent file reads it as data: a crafted file runs no code.

Each crafted file is a `torch.save` of the tree an agent writes, with one value replaced by an
object whose unpickling creates a marker file. Loading it must refuse the file, name it, and
leave no marker; the scripts end with one line on stderr and exit code 1.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import pathlib
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the rlcourse/* env ids)
from agents.alphazero.agent import AlphaZeroAgent
from agents.teachers import load_teacher
from agents.training import AGENT_FILE, build_agent, env_factory, load_agent, load_experiment
from rlcourse.config import ConfigError
from rlcourse.evaluation import EvalResult
from rlcourse.files import CorruptFileError, FileError, UnsafeFileError, load_data, save_data

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
DQN = CONFIGS / "cartpole" / "dqn.yaml"
PPO = CONFIGS / "cartpole" / "ppo.yaml"
GO5 = CONFIGS / "go5" / "alphazero.yaml"
SMALL_GO = ["agent.network.filters=8", "agent.network.blocks=1", "agent.network.value_hidden=8"]
# (config, overrides) of one agent of each kind, and the tree its `save` writes
AGENTS = {
    "dqn": (DQN, ["agent.network.mlp.hidden=[8]"]),
    "ppo": (PPO, ["agent.network.mlp.hidden=[8]"]),
    "behaviour_cloning": (CONFIGS / "rn4x3" / "behaviour_cloning.yaml", []),
    "q_learning": (CONFIGS / "cliff" / "q_learning.yaml", []),
    "double_q_learning": (CONFIGS / "cliff" / "double_q_learning.yaml", []),
    "value_iteration": (CONFIGS / "rn4x3" / "value_iteration.yaml", []),
    "alphazero": (GO5, SMALL_GO),
}


class RunsCode:
    """Unpickling this creates `marker`: what a malicious agent file would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "code_ran"
    yield path
    assert not path.exists(), "loading the crafted file ran its code"


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def experiment(name, tmp_path):
    path, overrides = AGENTS[name]
    return load_experiment(path, [*overrides, f"train.runs_dir={tmp_path}"])


def fresh_agent(name, tmp_path):
    config = experiment(name, tmp_path)
    env = env_factory(config)()
    agent = build_agent(config, env)
    env.close()
    return agent, config


def crafted_tree(agent, marker):
    """What `agent.save` writes, with its first value replaced by code."""
    genuine = Path(marker).parent / "genuine.ckpt"
    agent.save(genuine)
    tree = load_data(genuine)
    first = next(iter(tree))
    tree[first] = RunsCode(marker)
    return tree


def crafted_run(name, tmp_path, marker):
    """A run directory (config.yaml) whose agent.ckpt would run code when unpickled."""
    agent, config = fresh_agent(name, tmp_path)
    run_dir = tmp_path / f"run_{name}"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(config.to_yaml())
    torch.save(crafted_tree(agent, marker), run_dir / AGENT_FILE)
    return run_dir


def crafted_alphazero_file(tmp_path, marker):
    agent, _ = fresh_agent("alphazero", tmp_path)
    path = tmp_path / "alphazero.ckpt"
    torch.save(crafted_tree(agent, marker), path)
    return path


def assert_refused(exc_info, path):
    assert isinstance(exc_info.value, FileError)
    assert str(path) in str(exc_info.value)


def assert_script_refused(code, capsys, path):
    err = capsys.readouterr().err
    assert code == 1
    assert str(path) in err and "refused" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ the crafted files are real


def test_the_crafted_file_does_run_code_when_unpickled(tmp_path):
    marker = tmp_path / "code_ran"
    torch.save({"online": RunsCode(marker)}, tmp_path / "agent.ckpt")
    torch.load(tmp_path / "agent.ckpt", weights_only=False)
    assert marker.exists()


# ------------------------------------------------------------------ every agent's save and load


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_each_agent_saves_data_atomically_and_loads_it_back(name, tmp_path):
    agent, _ = fresh_agent(name, tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    agent.save(folder / "agent.ckpt")
    assert [p.name for p in folder.iterdir()] == ["agent.ckpt"]  # no temporary file left
    changed = _shifted(load_data(folder / "agent.ckpt"))  # data: weights_only loading reads it
    save_data(folder / "changed.ckpt", changed)
    agent.load(folder / "changed.ckpt")
    agent.save(folder / "again.ckpt")
    assert _same(load_data(folder / "again.ckpt"), changed)


def _shifted(tree):
    """`tree` with every float tensor and array increased by one."""
    if isinstance(tree, dict):
        return {key: _shifted(value) for key, value in tree.items()}
    if isinstance(tree, torch.Tensor | np.ndarray) and tree.dtype in (torch.float32, np.float64):
        return tree + 1
    return tree


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_each_agent_refuses_a_file_holding_code(name, tmp_path, marker):
    agent, _ = fresh_agent(name, tmp_path)
    path = tmp_path / "agent.ckpt"
    torch.save(crafted_tree(agent, marker), path)
    with pytest.raises(UnsafeFileError) as exc_info:
        agent.load(path)
    assert_refused(exc_info, path)


def test_a_save_into_a_missing_folder_names_the_file(tmp_path):
    agent, _ = fresh_agent("q_learning", tmp_path)
    with pytest.raises(FileError, match="no_such_folder"):
        agent.save(tmp_path / "no_such_folder" / "agent.ckpt")


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


# ------------------------------------------------------------------ AlphaZero agent files


def test_alphazero_from_file_refuses_code_naming_the_file(tmp_path, marker):
    path = crafted_alphazero_file(tmp_path, marker)
    with pytest.raises(UnsafeFileError) as exc_info:
        AlphaZeroAgent.from_file(path)
    assert_refused(exc_info, path)


def test_an_alphazero_file_with_an_invalid_config_is_named(tmp_path):
    agent, _ = fresh_agent("alphazero", tmp_path)
    path = tmp_path / "alphazero.ckpt"
    agent.save(path)
    tree = load_data(path)
    tree["config"]["mcts"]["simulations"] = -5
    tree["config"]["mcts"]["no_such_key"] = 1
    save_data(path, tree)
    with pytest.raises(ConfigError) as exc_info:
        AlphaZeroAgent.from_file(path)
    message = str(exc_info.value)
    assert str(path) in message
    assert "mcts.simulations" in message and "mcts.no_such_key" in message


def test_a_shipped_alphazero_file_loads_as_data():
    agent = AlphaZeroAgent.from_file(ROOT / "agents" / "pretrained" / "go5" / "alphazero.ckpt")
    assert agent.config.game.board_size == 5


# ------------------------------------------------------------------ scripts


def test_evaluate_refuses_a_crafted_run_and_its_agent_file(tmp_path, marker, capsys):
    run_dir = crafted_run("dqn", tmp_path, marker)
    evaluate = script("evaluate")
    assert_script_refused(evaluate.main([str(run_dir)]), capsys, run_dir / AGENT_FILE)
    path = run_dir / AGENT_FILE
    assert_script_refused(evaluate.main([str(path)]), capsys, path)


def test_evaluate_names_a_json_file_it_cannot_write(tmp_path, capsys):
    agent, config = fresh_agent("q_learning", tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(config.to_yaml())
    agent.save(run_dir / AGENT_FILE)
    out = tmp_path / "missing" / "eval.json"
    code = script("evaluate").main([str(run_dir), "--episodes", "1", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and str(out) in err and "Traceback" not in err


def test_write_json_is_atomic(tmp_path):
    result = EvalResult(2, 1.0, 0.0, 1.0, 1.0, 3.0, [1.0, 1.0], [3, 3])
    result.write_json(tmp_path / "eval.json")
    assert [p.name for p in tmp_path.iterdir()] == ["eval.json"]
    assert json.loads((tmp_path / "eval.json").read_text())["mean"] == 1.0
    with pytest.raises(FileError, match="missing"):
        result.write_json(tmp_path / "missing" / "eval.json")


def test_render_refuses_a_crafted_run(tmp_path, marker, capsys):
    run_dir = crafted_run("ppo", tmp_path, marker)
    code = script("render").main([str(run_dir), "--no-window", "--out", str(tmp_path / "x.gif")])
    assert_script_refused(code, capsys, run_dir / AGENT_FILE)
    assert not (tmp_path / "x.gif").exists()


def test_eval_driving_refuses_a_crafted_run(tmp_path, marker, capsys):
    run_dir = crafted_run("dqn", tmp_path, marker)
    code = script("eval_driving").main([str(run_dir), "--episodes", "1"])
    assert_script_refused(code, capsys, run_dir / AGENT_FILE)


def test_chat_refuses_a_crafted_run(tmp_path, marker, capsys):
    run_dir = crafted_run("dqn", tmp_path, marker)
    chat = script("chat")
    with pytest.raises(UnsafeFileError) as exc_info:
        chat.policy_for(str(run_dir))
    assert_refused(exc_info, run_dir / AGENT_FILE)
    assert_script_refused(chat.main(["--checkpoint", str(run_dir)]), capsys, run_dir / AGENT_FILE)


def test_play_gtp_and_go_match_refuse_a_crafted_alphazero_file(tmp_path, marker, capsys):
    path = crafted_alphazero_file(tmp_path, marker)
    network = ["--agent", "alphazero", "--checkpoint", str(path)]
    assert_script_refused(script("play").main(["go", *network]), capsys, path)
    assert_script_refused(script("gtp").main(network), capsys, path)
    match = ["network", "random", "--checkpoint", str(path), "--size", "5", "--komi", "7.5"]
    assert_script_refused(script("go_match").main(match), capsys, path)


def test_go_match_names_an_alphazero_file_with_an_invalid_config(tmp_path, capsys):
    agent, _ = fresh_agent("alphazero", tmp_path)
    path = tmp_path / "alphazero.ckpt"
    agent.save(path)
    tree = load_data(path)
    tree["config"]["game"]["board_size"] = "seven"
    save_data(path, tree)
    match = ["network", "random", "--checkpoint", str(path), "--size", "5", "--komi", "7.5"]
    assert script("go_match").main(match) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "game.board_size" in err and "Traceback" not in err


def assert_program_refused(name, args, named):
    """Run scripts/<name> as a program: exit code 1 and one line naming the file."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and str(named) in done.stderr
    assert "Traceback" not in done.stderr


def test_gtp_as_a_program_ends_in_one_line_naming_the_file(tmp_path, marker):
    path = crafted_alphazero_file(tmp_path, marker)
    assert_program_refused("gtp.py", ["--agent", "alphazero", "--checkpoint", str(path)], path)


@pytest.mark.slow  # a second program start: ~8 s on a busy 2-core machine
def test_evaluate_as_a_program_ends_in_one_line_naming_the_file(tmp_path, marker):
    run_dir = crafted_run("q_learning", tmp_path, marker)
    assert_program_refused("evaluate.py", [str(run_dir)], run_dir / AGENT_FILE)


# ------------------------------------------------------------------ init_from and teachers


def test_ppo_init_from_a_crafted_run_refuses_it(tmp_path, marker):
    run_dir = crafted_run("ppo", tmp_path, marker)
    config = load_experiment(PPO, [f"agent.init_from={run_dir}", "agent.network.mlp.hidden=[8]"])
    env = gym.make(config.env.id)
    agent = build_agent(config, env)
    obs, info = env.reset(seed=0)
    with pytest.raises(UnsafeFileError) as exc_info:
        agent.act(obs, info)
    assert_refused(exc_info, run_dir / AGENT_FILE)


def test_a_teacher_from_a_crafted_run_or_file_is_refused(tmp_path, marker):
    run_dir = crafted_run("value_iteration", tmp_path, marker)
    env = gym.make("rlcourse/RussellNorvig4x3-v0")
    for source in (run_dir, run_dir / AGENT_FILE):
        with pytest.raises(UnsafeFileError) as exc_info:
            load_teacher(source, env)
        assert_refused(exc_info, run_dir / AGENT_FILE)


def test_load_agent_reads_a_genuine_run_back(tmp_path):
    agent, config = fresh_agent("value_iteration", tmp_path)
    agent.values[:] = np.arange(len(agent.values))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(config.to_yaml())
    agent.save(run_dir / AGENT_FILE)
    loaded, _ = load_agent(run_dir)
    assert np.array_equal(loaded.values, agent.values)


# ------------------------------------------------------------------ the sb3 backend


@pytest.fixture
def sb3_zip(tmp_path):
    """A genuine (untrained) SB3 PPO agent, its config, and its zip's entries."""
    config = load_experiment(
        CONFIGS / "cartpole" / "sb3_ppo.yaml",
        ["backend.n_envs=1", "backend.hyperparameters.batch_size=32"],
    )
    env = env_factory(config)()
    agent = build_agent(config, env)
    agent.model = agent._new_model(agent._vec_env(env_factory(config)))
    agent.save(tmp_path / "agent.ckpt")
    with zipfile.ZipFile(tmp_path / "agent.ckpt") as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    return agent, config, env, entries


def write_zip(path, entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def test_sb3_loads_its_zip_without_unpickling_the_data_entries(sb3_zip, tmp_path, marker):
    agent, config, env, entries = sb3_zip
    data = json.loads(entries["data"])
    code = base64.b64encode(pickle.dumps(RunsCode(marker))).decode()
    pickled = [key for key, value in data.items() if isinstance(value, dict)
               and ":serialized:" in value]  # fmt: skip
    assert "observation_space" in pickled and "lr_schedule" in pickled
    for key in pickled:
        data[key][":serialized:"] = code
    data["extra_object"] = {":serialized:": code}
    write_zip(tmp_path / "crafted.zip", {**entries, "data": json.dumps(data).encode()})
    other = build_agent(config, env)
    other.load(tmp_path / "crafted.zip")  # every pickled entry rebuilt from the config
    obs, info = env.reset(seed=0)
    for _ in range(10):
        assert other.act(obs, info, deterministic=True) == agent.act(obs, info, deterministic=True)
        obs, *_, info = env.step(agent.act(obs, info, deterministic=True))


def test_sb3_refuses_a_zip_whose_weights_hold_code(sb3_zip, tmp_path, marker):
    agent, _, _, entries = sb3_zip
    buffer = io.BytesIO()
    torch.save(RunsCode(marker), buffer)
    path = tmp_path / "crafted.zip"
    write_zip(path, {**entries, "policy.pth": buffer.getvalue()})
    with pytest.raises(UnsafeFileError) as exc_info:
        agent.load(path)
    assert_refused(exc_info, path)


# ------------------------------------------------------------------ the rllib backend


def rllib_run(tmp_path):
    """A run directory of the rllib backend with one checkpoint folder (no Ray cluster)."""
    config = load_experiment(CONFIGS / "gridworld" / "rllib_ppo.yaml")
    run_dir = tmp_path / "rllib_run"
    checkpoint = run_dir / "checkpoints" / "rllib_step_0000000100"
    checkpoint.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(config.to_yaml())
    (checkpoint / "rllib_checkpoint.json").write_text("{}")
    return config, run_dir, checkpoint


def test_rllib_policies_load_from_their_weights_as_data(tmp_path):
    rllib = pytest.importorskip("agents.backends.rllib")
    config, run_dir, checkpoint = rllib_run(tmp_path)
    env = gym.make(config.env.id, **config.env.kwargs)
    spec = rllib.algorithm_config(config).get_rl_module_spec(env=rllib.flat_observations(env))
    module = spec.build()
    save_data(checkpoint / rllib.MODULE_FILE, module.get_state())
    policy, _ = load_agent(run_dir)
    original = rllib.RLlibPolicy(module, env.observation_space)
    for state in range(env.observation_space.n):
        assert policy.act(state, deterministic=True) == original.act(state, deterministic=True)
    save_data(checkpoint / rllib.MODULE_FILE, {"other": np.zeros(3, np.float32)})
    with pytest.raises(CorruptFileError, match="do not fit") as exc_info:
        load_agent(run_dir)
    assert_refused(exc_info, checkpoint / rllib.MODULE_FILE)


def test_rllib_checkpoints_are_never_unpickled(tmp_path, marker, capsys):
    rllib = pytest.importorskip("agents.backends.rllib")
    _, run_dir, checkpoint = rllib_run(tmp_path)
    module_dir = checkpoint / rllib.MODULE_IN_CHECKPOINT
    module_dir.mkdir(parents=True)
    for name in ("class_and_ctor_args.pkl", "module_state.pkl", "state.pkl"):
        (module_dir / name).write_bytes(pickle.dumps(RunsCode(marker)))
        (checkpoint / name).write_bytes(pickle.dumps(RunsCode(marker)))
    weights = checkpoint / rllib.MODULE_FILE
    with pytest.raises(FileError) as exc_info:  # no weights as data: RLlib's pickles refused
        load_agent(run_dir)
    assert_refused(exc_info, weights)
    torch.save({"weights": RunsCode(marker)}, weights)
    assert_script_refused(script("evaluate").main([str(checkpoint)]), capsys, weights)


def test_an_agent_file_whose_weights_do_not_fit_its_network_is_named_in_one_error(tmp_path):
    """An agent file made for another version of the env (the dialogue's belief grew from 100
    to 125 features) is refused with the file named, not a torch traceback."""
    import shutil

    from agents.training import load_agent
    from rlcourse.files import load_data, save_data

    shipped = pathlib.Path(__file__).resolve().parent.parent / "agents/pretrained/dialogue"
    run = tmp_path / "old_dialogue"
    shutil.copytree(shipped, run)
    weights = load_data(run / "agent.ckpt")
    first = "encoder.torso.layers.0.weight"
    weights["online"][first] = weights["online"][first][:, :100].clone()
    save_data(run / "agent.ckpt", weights)
    with pytest.raises(ValueError, match=r"agent.ckpt: its weights do not fit the network") as e:
        load_agent(run)
    assert first in str(e.value) and "rlcourse/InCarDialogue-v0" in str(e.value)
