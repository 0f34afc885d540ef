"""The command-line entry points, end to end on a fast planner config."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.run_dirs import only_run

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "rn4x3" / "value_iteration.yaml"


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture
def trained(runs_dir, capsys):
    assert script("train")([str(CONFIG), f"train.runs_dir={runs_dir}", "--no-progress"]) == 0
    run_dir = only_run(runs_dir)
    capsys.readouterr()
    return run_dir


def test_train_writes_a_complete_run_directory(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"config.yaml", "checkpoints", "agent.ckpt", "eval.json"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    stats = json.loads((trained / "eval.json").read_text())
    # Optimal R&N policy from the start state: expected return U(1,1) = 0.705. Not "inside the
    # 95% interval", which 3 of 30 evaluation seeds miss; their means lie within 0.033 of it.
    assert stats["mean"] == pytest.approx(0.705, abs=0.05) and stats["episodes"] == 200


def test_evaluate_reports_and_writes_json(trained, tmp_path, capsys):
    out = tmp_path / "e.json"
    assert script("evaluate")([str(trained), "--episodes", "50", "--json", str(out)]) == 0
    assert "95% CI, n=50" in capsys.readouterr().out
    assert json.loads(out.read_text())["episodes"] == 50


def test_render_gif_and_values_png(trained, tmp_path):
    gif, png = tmp_path / "ep.gif", tmp_path / "v.png"
    assert script("render")([str(trained), "--out", str(gif), "--no-window"]) == 0
    assert Image.open(gif).n_frames >= 6  # at least the 5 moves of the shortest path
    assert script("render")([str(trained), "--values", str(png)]) == 0
    assert len(np.unique(np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3), axis=0)) > 10


def test_plot_makes_a_png(trained, tmp_path):
    out = tmp_path / "c.png"
    assert script("plot")([str(trained), "--tag", "plan/iterations", "--out", str(out)]) == 0
    assert out.is_file()


def test_a_bad_config_is_refused_before_anything_runs(runs_dir):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "train.py"),
            str(CONFIG),
            "agent.gama=0.9",
            f"train.runs_dir={runs_dir}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert (
        str(CONFIG) in proc.stderr
        and "agent.gama: unknown key; did you mean 'gamma'?" in proc.stderr
    )
    assert not any(runs_dir.iterdir())  # no run directory was created


def test_a_missing_map_file_is_refused_before_training(runs_dir, capsys):
    code = script("train")(
        [
            str(CONFIG),
            "env.id=rlcourse/GridWorld-v0",
            "env.kwargs.map=/nope.txt",
            f"train.runs_dir={runs_dir}",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert str(CONFIG) in err and "env: rlcourse/GridWorld-v0 could not be built" in err
    assert not any(runs_dir.iterdir())


def test_train_threads_option_sets_torch_threads_and_refuses_zero(runs_dir, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        args = [str(CONFIG), f"train.runs_dir={runs_dir}", "--no-progress", "--threads", "2"]
        assert script("train")(args) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SystemExit):
        script("train")([str(CONFIG), "--threads", "0"])
    assert "--threads must be >= 1, got 0" in capsys.readouterr().err


def test_evaluate_names_a_missing_run_directory(tmp_path, capsys):
    missing = tmp_path / "runs" / "nope"
    assert script("evaluate")([str(missing)]) == 2
    assert f"{missing}: no such run directory, agent file or checkpoint" in capsys.readouterr().err


def test_train_says_where_its_run_is_and_where_a_resume_starts(runs_dir, capsys):
    cliff = ROOT / "configs" / "cliff" / "q_learning.yaml"
    common = [f"train.runs_dir={runs_dir}", "train.checkpoint_every=50", "train.eval_episodes=2"]
    train = script("train")
    assert train([str(cliff), "train.episodes=10", *common, "--no-progress"]) == 0
    run_dir = only_run(runs_dir)
    assert capsys.readouterr().out.splitlines()[0] == f"run directory: {run_dir}"
    assert train(["--resume", str(run_dir), "--no-progress"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"resuming {run_dir} from step ") and "(step_" in first
    assert first.endswith("already complete (10 episodes); raise train.steps or train.episodes "
                          "to go on")  # fmt: skip
    assert train(["--resume", str(run_dir), "train.episodes=20", "--no-progress"]) == 0
    assert "already complete" not in capsys.readouterr().out
    assert "episodes: 20" in (run_dir / "config.yaml").read_text()  # the new budget is recorded


def test_ctrl_c_writes_a_checkpoint_and_prints_how_to_carry_on(runs_dir):
    import signal

    from rlcourse.runs import load_latest_checkpoint

    cliff = ROOT / "configs" / "cliff" / "q_learning.yaml"
    endless = [
        sys.executable,
        str(ROOT / "scripts" / "train.py"),
        str(cliff),
        "train.episodes=10000000",
        f"train.runs_dir={runs_dir}",
        "--no-progress",
    ]
    proc = subprocess.Popen(endless, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    first = proc.stdout.readline()  # printed when training starts
    assert first.startswith("run directory: "), first + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err, err
    run_dir = Path(first.split("run directory: ")[1].strip())
    _, state = load_latest_checkpoint(run_dir)
    assert f"interrupted: checkpoint written at step {state['step']:,} in {run_dir}" in err
    assert f"carry on with: python scripts/train.py --resume {run_dir}" in err


def test_the_best_periodic_evaluation_keeps_its_agent(runs_dir):
    import gymnasium as gym

    import envs  # noqa: F401  (registers the rlcourse/* env ids)
    from agents.training import load_agent, load_experiment, train

    cliff = ROOT / "configs" / "cliff" / "q_learning.yaml"
    seen = []
    budget = ["train.episodes=60", "train.eval_every=300", "train.eval_episodes=1"]
    config = load_experiment(cliff, [*budget, f"train.runs_dir={runs_dir}"])
    result = train(config, progress=False, on_eval=lambda step, r: seen.append((r.mean, step)))
    best = json.loads((result.run_dir / "best.json").read_text())
    assert len(seen) > 2 and (best["mean"], best["step"]) == max(seen, key=lambda s: s[0])
    agent, _ = load_agent(result.run_dir / "best.ckpt")
    env = gym.make(config.env.id)
    obs, _ = env.reset(seed=0)
    assert 0 <= agent.act(obs, deterministic=True) < 4


def test_render_plays_random_legal_moves_and_writes_mp4(tmp_path, capsys):
    out = tmp_path / "go.mp4"
    assert script("render")(["--env", "rlcourse/Go-v0", "--out", str(out), "--no-window"]) == 0
    assert out.stat().st_size > 0 and "wrote" in capsys.readouterr().out  # an illegal move raises


def test_render_prints_episodes_of_an_env_that_draws_text(capsys):
    assert script("render")(["--env", "rlcourse/TMaze-v0"]) == 0
    assert "episode 1 (seed 0):" in capsys.readouterr().out
    assert script("render")(["--env", "rlcourse/TMaze-v0", "--out", "t.gif"]) == 2
    assert "draws no frames (its render modes: ansi)" in capsys.readouterr().err


def test_evaluate_and_render_point_a_shipped_go_network_to_go_match(capsys):
    for name in ("evaluate", "render"):
        assert script(name)([str(ROOT / "agents" / "pretrained" / "go5")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "scripts/go_match.py network random" in err
        assert "--size 5 --komi 7.5" in err


@pytest.mark.skipif(not Path("/usr/games/gnugo").exists(), reason="GNU Go is not installed")
def test_the_demo_ends_with_the_shipped_network_beating_gnugo(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("script_demo", ROOT / "scripts" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.go_against_a_reference(tmp_path, no_window=True)
    assert "the network as Black wins" in capsys.readouterr().out
    sgf = (tmp_path / "go5_game1.sgf").read_text()
    assert "PB[AlphaZero 5x5]" in sgf and "RE[B+" in sgf
    assert Image.open(tmp_path / "go5_game1.gif").n_frames > 5


def load_play():
    spec = importlib.util.spec_from_file_location("script_play", ROOT / "scripts" / "play.py")
    play = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(play)
    return play


def test_go_is_played_in_the_terminal_with_gtp_coordinates():
    from envs.go.rules import BLACK, GoState

    play = load_play()
    typed = iter(["C3", "Z9", "C3", "undo", "B2", "pass", "pass"])
    shown = []
    line = play.play_go_in_text(lambda state: state.pass_move, BLACK, GoState.new(5),
                                read=lambda prompt: next(typed), write=shown.append)  # fmt: skip
    text = "\n".join(map(str, shown))
    assert "not a move" in text and "illegal: " in text and "agent plays pass" in text
    final = line[-1]
    assert final.is_terminal and list(final.moves) == [16, 25, 25]  # B2 (C3 was undone), passes
    assert "game over: Black wins by" in text


def test_a_gridworld_is_walked_in_the_terminal_with_arrow_keys():
    import gymnasium as gym

    import envs  # noqa: F401

    play = load_play()
    env = gym.make("rlcourse/CliffWalking-v0", render_mode="ansi")
    keys = iter(["\x1b[A"] + ["d"] * 11 + ["\x1b[B", "x"])
    shown = []
    total = play.walk_in_text(env, 0, read=lambda prompt: next(keys), write=shown.append)
    assert total == -13  # up, 11 steps right, down onto the goal: the safe path's return
    assert "'x'" not in "\n".join(map(str, shown))  # the episode ended before the stray key


def test_evaluate_render_without_a_display_says_so_and_evaluates(trained, capsys):
    assert script("evaluate")([str(trained), "--episodes", "2", "--render"]) == 0
    out = capsys.readouterr()
    assert "--render: no display; evaluating without a window" in out.err and "return" in out.out


def test_a_run_name_already_taken_is_refused_in_one_line(runs_dir, capsys):
    named = [str(CONFIG), f"train.runs_dir={runs_dir}", "train.name=first", "--no-progress"]
    assert script("train")(named) == 0
    capsys.readouterr()
    assert script("train")(named) == 2
    err = capsys.readouterr().err
    assert "train.name: " in err and "first exists: resume it with --resume" in err
    assert "Traceback" not in err
