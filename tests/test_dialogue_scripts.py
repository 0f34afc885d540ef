"""scripts/chat.py driven through a pipe, and scripts/bench_dialogue.py on a few dialogues."""

import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rlcourse.benchmarking import check_results
from tests.run_dirs import only_run

ROOT = Path(__file__).resolve().parent.parent


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chat(lines, *args):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chat.py"), *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def test_chat_from_a_pipe_gets_a_task_done():
    out = chat(
        ["take me to the airport", "I don't care", "thanks, that's all"], "--policy", "rules"
    )
    lines = out.splitlines()
    assert "You: take me to the airport" in lines
    assert "  (heard: inform_intent(navigate) 1.00; inform(destination=the airport) 1.00)" in lines
    assert "  (heard: dont_care(route_preference) 1.00)" in lines
    assert (
        "  [car carries out navigate: destination=the airport, route_preference=dontcare]" in lines
    )
    assert "  (heard: thanks 1.00; done 1.00)" in lines
    assert lines[-1] in ("Car: Goodbye, drive safely.", "Car: Bye for now.")


def test_chat_over_a_noisy_engine_shows_the_n_best_lists_the_car_heard():
    lines = ["take me to the airport", "no tolls", "yes", "yes", "thanks, that's all"]
    out = chat(lines, "--policy", "rules", "--speech-error", "0.3", "--seed", "1")
    heard = [line for line in out.splitlines() if line.startswith("  (heard: ")]
    n_best = re.compile(
        r"^[a-z_]+(\([^)]*\))? [01]\.\d\d( \| [a-z_]+(\([^)]*\))? [01]\.\d\d){0,2}$"
    )
    lists = [part for line in heard for part in line[len("  (heard: ") : -1].split("; ")]
    lists = [part for part in lists if part != "nothing"]  # a lost act, or no words understood
    assert lists and all(n_best.match(part) for part in lists), lists
    assert any(" | " in part for part in lists)  # at 30% error some act has alternatives


def test_chat_confirms_corrects_and_stops_at_end_of_input():
    module = script("chat")
    env, act, _ = module.policy_for(None)
    session = module.ChatSession(env, act)
    out = session.turn("call")
    assert out[0] == "  (heard: inform_intent(call_contact) 1.00)"
    session.turn("anna")
    assert session.belief.top("contact") == "anna"
    session.turn("on the mobile")
    assert session.belief.top("number_type") == "mobile"
    assert not session.ended
    assert (
        chat([], "--policy", "rules").splitlines()[-1]
        == "Car: I'm listening. What can I do for you?"
    )


def in_process_chat(lines, args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    assert script("chat").main(args) == 0
    return capsys.readouterr().out.splitlines()


def test_chat_talks_with_the_shipped_policy_by_default(monkeypatch, capsys):
    lines = ["take me to the airport", "I don't care", "thanks, that's all"]
    out = in_process_chat(lines, [], monkeypatch, capsys)
    assert out[0].startswith("(talking to the ") and "agents/pretrained/dialogue)" in out[0]
    assert "  (heard: inform_intent(navigate) 1.00; inform(destination=the airport) 1.00)" in out
    assert any(
        line.startswith("  [car carries out navigate: destination=the airport") for line in out
    )
    assert out[-1] in ("Car: Goodbye, drive safely.", "Car: Bye for now.")
    rules = in_process_chat(["call anna"], ["--policy", "rules"], monkeypatch, capsys)
    assert rules[0] == "(talking to the rule-based policy; an empty line or 'quit' ends)"


def test_chat_refuses_a_checkpoint_with_the_rules(capsys):
    with pytest.raises(SystemExit):
        script("chat").main(["--policy", "rules", "--checkpoint", "somewhere"])
    assert "--checkpoint goes with --policy trained" in capsys.readouterr().err
    assert script("chat").main(["--checkpoint", "/no/such/run"]) == 2


def test_bench_writes_results_in_the_common_format(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main = script("bench_dialogue").main
    assert main(["--rules-only", "--episodes", "20", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    check_results(results)
    assert set(results) == {
        f"{metric}@{driver}@{level}"
        for metric in ("success", "turns", "satisfaction", "return")
        for driver in ("agenda", "stochastic")
        for level in ("0%", "5%", "15%", "30%")
    }
    clean = results["success@agenda@0%"]
    assert clean["ratio"] == 1.0 and 0.8 <= clean["ours"] <= 1.0
    low, high = clean["ours_ci"]
    assert low <= clean["ours"] <= high
    assert "target" not in clean  # the rules against themselves have no target
    printed = capsys.readouterr().out
    assert "rules (tuned) | stochastic | 30%" in printed
    assert "20 dialogues per policy, driver and error level" in printed


@pytest.mark.slow
def test_chat_and_bench_load_a_trained_checkpoint(tmp_path):
    config = tmp_path / "dqn_dialogue.yaml"
    config.write_text(
        "env: {id: rlcourse/InCarDialogue-v0}\n"
        "agent: {name: dqn, network: {mlp: {hidden: [32]}}, learning_starts: 100,\n"
        "        buffer_size: 2000, epsilon: {kind: linear, start: 1.0, end: 0.05, steps: 300}}\n"
        "train: {steps: 400, seed: 0, eval_episodes: 2}\n"
    )
    train = script("train").main
    assert train([str(config), f"train.runs_dir={tmp_path / 'runs'}", "--no-progress"]) == 0
    run_dir = only_run(tmp_path / "runs")
    assert "(talking to the dqn_dialogue" in chat(["take me home"], "--checkpoint", str(run_dir))
    out = tmp_path / "bench.json"
    bench = script("bench_dialogue").main
    assert bench(["--episodes", "5", "--checkpoint", str(run_dir), "--json", str(out)]) == 0
    case = json.loads(out.read_text())["return@agenda@15%"]
    assert set(case) >= {"ours", "rules (tuned)", "ratio", "target", "met"}


def test_rule_tuning_scores_every_valid_combination_and_names_the_best(tmp_path, capsys):
    module = script("tune_dialogue_rules")
    grid = module.candidates()
    assert all(c["offer_above"] <= c["confirm_below"] for c in grid)
    assert len(grid) == 7 * 5 * 3  # every offer_above of the grid is below every confirm_below
    out = tmp_path / "tune.json"
    assert module.main(["--episodes", "3", "--error", "0.3", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    returns = [s["return"] for s in record["scores"]]
    assert len(returns) == len(grid) and returns == sorted(returns, reverse=True)
    best = {k: record["scores"][0][k] for k in module.GRID}
    assert f"best: {best}" in capsys.readouterr().out
