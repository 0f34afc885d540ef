"""`--help` of every script answers at once: it prints its usage and exits 0 before anything heavy
(torch, Ray, gymnasium, our envs and agents, ...) is imported; and the `rlcourse` console command
runs the scripts under their own names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlcourse import commands

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
HEAVY = ("torch", "ray", "gymnasium", "envs", "agents", "pydantic", "scipy", "matplotlib",
         "pygame", "tensorboard", "stable_baselines3")  # fmt: skip
# Scripts that still import something heavy before reading their arguments (owned elsewhere;
# issue #21): each with what it imports. Empty when every script is light.
KNOWN_HEAVY: dict[str, set[str]] = {}

# Runs in a fresh interpreter, which imports only the standard library itself. Each job runs in
# a forked child, so that what one script imports is not counted against the next: a script
# (path, arguments) with `runpy` as `python SCRIPT ARGS` would, or the rlcourse command
# (None, arguments). Prints one JSON object per job: exit code, stdout, heavy packages imported.
PROBE = r"""
import contextlib, io, json, os, runpy, sys
heavy = set(json.loads(sys.argv[1]))
for path, args in json.loads(sys.argv[2]):
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        out, code = io.StringIO(), 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                if path is None:
                    from rlcourse.commands import main
                    code = main(args)
                else:
                    sys.argv = [path, *args]
                    runpy.run_path(path, run_name="__main__")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (exc.code is not None)
        except BaseException as exc:
            code = f"{type(exc).__name__}: {exc}"
        imported = sorted({name.split(".")[0] for name in sys.modules} & heavy)
        with os.fdopen(write, "w") as fh:
            json.dump({"code": code, "out": out.getvalue(), "heavy": imported}, fh)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        print(fh.read(), flush=True)
    os.wait()
"""


def probe(jobs: list[tuple[str | None, list[str]]]) -> list[dict]:
    """Run the jobs in one fresh interpreter (in the repository root); one result per job."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), json.dumps(jobs)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(results) == len(jobs), done.stderr
    return results


def is_command(script: Path) -> bool:
    """A script run from the command line, not a helper module imported by the scripts."""
    return 'if __name__ == "__main__":' in script.read_text()


@pytest.fixture(scope="module")
def helps() -> dict[str, dict]:
    results = probe([(str(script), ["--help"]) for script in SCRIPTS])
    return {script.stem: result for script, result in zip(SCRIPTS, results, strict=True)}


@pytest.mark.parametrize("name", [script.stem for script in SCRIPTS])
def test_help_prints_usage_before_importing_anything_heavy(helps, name):
    result = helps[name]
    script = ROOT / "scripts" / f"{name}.py"
    if is_command(script):
        assert result["code"] == 0, result
        assert result["out"].startswith("usage:"), result["out"][:200]
    assert set(result["heavy"]) == KNOWN_HEAVY.get(name, set()), (
        f"scripts/{name}.py imports {result['heavy']} before it reads its arguments: "
        "import them inside run(), after parse_args"
    )


def test_the_list_of_commands_names_each_with_its_summary(capsys):
    assert commands.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rlcourse")
    for name in commands.COMMANDS:
        summary = commands.summary(commands.SCRIPTS / f"{name}.py")
        assert summary and f"  {name}" in out and summary in " ".join(out.split()), name
    assert "Train an agent from a YAML config." in out


def test_a_command_runs_its_script_under_the_command_s_name(capsys, tmp_path):
    assert commands.main(["evaluate", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: rlcourse evaluate ")
    assert commands.main(["evaluate", str(tmp_path / "missing"), "--episodes", "0"]) == 2
    assert "rlcourse evaluate: error: --episodes must be at least 1" in capsys.readouterr().err
    assert sys.argv[0] != "rlcourse evaluate"  # put back


def test_an_unknown_or_missing_command_is_a_usage_error(capsys):
    assert commands.main(["trian"]) == 2
    assert "invalid choice: 'trian'" in capsys.readouterr().err
    assert commands.main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err


def test_without_the_scripts_folder_the_command_says_how_to_get_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(commands, "SCRIPTS", tmp_path / "scripts")
    assert commands.main(["--help"]) == 0
    assert "make install" in capsys.readouterr().out
    assert commands.main(["train", "configs/cliff/q_learning.yaml"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "make install" in err and len(err.splitlines()) == 1


def test_rlcourse_help_and_each_command_s_help_stay_light():
    jobs: list[tuple[str | None, list[str]]] = [(None, ["--help"])]
    jobs += [(None, [name, "--help"]) for name in commands.COMMANDS]
    for (_, args), result in zip(jobs, probe(jobs), strict=True):
        name = args[0] if len(args) > 1 else None
        assert result["code"] == 0, (args, result)
        assert result["out"].startswith(f"usage: rlcourse {name or ''}".rstrip()), result["out"]
        assert set(result["heavy"]) == KNOWN_HEAVY.get(name or "", set()), (args, result)


def test_python_m_rlcourse_commands_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "rlcourse.commands", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.startswith("usage: rlcourse") and "  selfplay  " in done.stdout
