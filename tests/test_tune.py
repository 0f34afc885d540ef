"""scripts/tune.py: the search-space grammar, errors before Ray starts, and a tiny sweep whose
best config trains."""

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.run_dirs import only_run

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cliff" / "q_learning.yaml"


def load_tune():
    spec = importlib.util.spec_from_file_location("script_tune", ROOT / "scripts" / "tune.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["script_tune"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


tune = load_tune()


@pytest.mark.parametrize(
    ("text", "key", "kind", "args"),
    [
        ("agent.lr=loguniform(1e-4,1e-2)", "agent.lr", "loguniform", (1e-4, 1e-2)),
        ("agent.alpha = uniform(0, 1)", "agent.alpha", "uniform", (0.0, 1.0)),
        ("agent.n_step=randint(1,5)", "agent.n_step", "randint", (1, 5)),
        ("agent.loss=choice(huber, mse)", "agent.loss", "choice", ("huber", "mse")),
        ("agent.double=choice(true,false)", "agent.double", "choice", (True, False)),
        ("train.seed=choice(3)", "train.seed", "choice", (3,)),
    ],
)
def test_the_grammar(text, key, kind, args):
    parsed_key, domain = tune.parse_search(text)
    assert (parsed_key, domain.kind, domain.args) == (key, kind, args)
    assert all(type(a) is type(b) for a, b in zip(domain.args, args, strict=True))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agent.lr", "expected KEY=DOMAIN(ARGS)"),
        ("agent.lr=normal(0,1)", "unknown domain 'normal'; expected one of"),
        ("agent.lr=uniform(1)", "uniform takes two arguments (LOW, HIGH), got 1"),
        ("agent.lr=uniform(0.5,0.1)", "LOW must be below HIGH, got 0.5 and 0.1"),
        ("agent.lr=loguniform(0,1)", "loguniform bounds must be positive, got 0"),
        ("agent.n=randint(1.5,4)", "randint bounds must be integers, got 1.5"),
        ("agent.lr=uniform(low,1)", "uniform bounds must be numbers, got 'low'"),
        ("agent.loss=choice()", "choice needs at least one value"),
        ("agent.loss=choice(a,,b)", "an empty argument"),
        ("agent.net=choice([1, 2])", "arguments must be numbers, strings or booleans, got '[1'"),
    ],
)
def test_grammar_errors_name_the_argument(text, message):
    with pytest.raises(tune.SearchError) as info:
        tune.parse_search(text)
    assert str(info.value).startswith(f"{text!r}: ") and message in str(info.value)


def test_sampled_values_become_overrides_the_config_accepts():
    import envs  # noqa: F401
    from agents.training import load_experiment

    override = tune.as_override("agent.alpha", 1e-4)
    assert override == "agent.alpha=0.0001"
    assert load_experiment(CONFIG, [override]).agent.alpha == 1e-4
    assert tune.as_override("agent.name", "sarsa") == 'agent.name="sarsa"'


def test_bad_searches_are_refused_before_ray_starts(capsys):
    assert tune.main([str(CONFIG), "--search", "agent.alpha=uniform(1)"]) == 2
    assert "uniform takes two arguments" in capsys.readouterr().err
    steps = "train.steps=2000"
    assert tune.main([str(CONFIG), steps, "--search", "agent.alpah=uniform(0.1,0.5)"]) == 2
    err = capsys.readouterr().err
    assert str(CONFIG) in err and "agent.alpah: unknown key; did you mean 'alpha'?" in err
    # a domain the key cannot take is caught through one of its values
    assert tune.main([str(CONFIG), steps, "--search", "agent.alpha=uniform(2,3)"]) == 2
    assert "agent.alpha: input should be less than or equal to 1" in capsys.readouterr().err
    # ASHA needs periodic reports: an episode budget with no eval cadence is refused
    assert tune.main([str(CONFIG), "--search", "agent.alpha=uniform(0.1,0.5)"]) == 2
    assert "train.eval_every: ASHA needs periodic evaluations" in capsys.readouterr().err


@pytest.mark.ray
@pytest.mark.slow  # about a minute on 2 cores: Ray Tune's start-up, three trials, one training
def test_a_tiny_sweep_completes_and_its_best_config_trains(tmp_path):
    out = tmp_path / "sweep"
    sweep = [
        sys.executable, str(ROOT / "scripts" / "tune.py"), str(CONFIG),
        "train.episodes=null", "train.steps=2000", "train.eval_every=1000",
        "train.eval_max_steps=200",
        "--search", "agent.alpha=uniform(0.3,0.9)", "--search", "agent.epsilon=choice(0.05,0.1)",
        "--samples", "3", "--cpus", "2", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(sweep, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "best config:" in proc.stdout
    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert set(rows[0]) >= {"trial", "agent.alpha", "agent.epsilon", "return_mean", "status"}
    best = rows[0]  # best first among the trials that ran their full budget
    assert best["status"] == "full"
    full = [float(r["return_mean"]) for r in rows if r["status"] == "full"]
    assert float(best["return_mean"]) == max(full)
    chosen = yaml.safe_load((out / "best.yaml").read_text())
    assert chosen["agent"]["alpha"] == pytest.approx(float(best["agent.alpha"]))
    assert chosen["agent"]["epsilon"] == float(best["agent.epsilon"])
    assert Path(best["run_dir"]).is_dir()  # each trial wrote its own run directory

    runs = tmp_path / "runs"
    train = [sys.executable, str(ROOT / "scripts" / "train.py"), str(out / "best.yaml"),
             f"train.runs_dir={runs}", "--no-progress"]  # fmt: skip
    proc = subprocess.run(train, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = only_run(runs)
    assert (run_dir / "eval.json").is_file()
