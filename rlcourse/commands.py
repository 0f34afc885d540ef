"""``rlcourse COMMAND [ARGS ...]``: the user-facing scripts of scripts/ under one console command.

``rlcourse train configs/cliff/q_learning.yaml`` runs ``scripts/train.py`` with the arguments
that follow the command, exactly as ``python scripts/train.py ...`` does; the script's usage
lines and errors name it ``rlcourse train``. The scripts are files of the source checkout, beside
this package, not modules of the installed distribution: the command works in an editable install
(``make install``) and says so in one line elsewhere.

Kept free of heavy imports, so that ``rlcourse --help`` answers at once: the commands' one-line
summaries are read from the scripts' docstrings without importing them.
"""

from __future__ import annotations

import argparse
import ast
import runpy
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
COMMANDS = ("train", "evaluate", "render", "play", "chat", "selfplay", "gtp", "tune", "plot")


def summary(script: Path) -> str:
    """The first paragraph of ``script``'s module docstring on one line (empty if it has none),
    read as text."""
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"), str(script)))
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def parser() -> argparse.ArgumentParser:
    """The top-level parser; its help lists each command with its script's summary."""
    width = max(map(len, COMMANDS))
    if SCRIPTS.is_dir():
        lines = [f"  {name:<{width}}  {summary(SCRIPTS / f'{name}.py')}" for name in COMMANDS]
    else:
        lines = [f"  {', '.join(COMMANDS)}", f"  ({missing_scripts()})"]
    made = argparse.ArgumentParser(
        prog="rlcourse",
        usage="rlcourse [-h] COMMAND [ARGS ...]",
        description="Train, evaluate, render and play reinforcement-learning agents.",
        epilog="commands:\n" + "\n".join(lines) + "\n\n`rlcourse COMMAND --help` shows a "
        "command's own options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("command", metavar="COMMAND", choices=COMMANDS, help="one of the commands")
    return made


def missing_scripts() -> str:
    return (
        f"the commands run the scripts of a source checkout, and there is no {SCRIPTS}: "
        "clone the repository and install it with `make install` (an editable install)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``scripts/<COMMAND>.py``'s ``main`` with the arguments after COMMAND; its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:  # the command alone is parsed here (or --help); what follows it is the script's
        name = parser().parse_args(argv[:1]).command
    except SystemExit as exc:
        return exit_code(exc.code)
    script = SCRIPTS / f"{name}.py"
    if not script.is_file():
        print(f"error: {missing_scripts()}", file=sys.stderr)
        return 1
    saved = sys.argv
    try:
        # The script's module is run without its ``__main__`` block (run_path would set argv[0]
        # to the file there), then its main() is called with argv[0] naming the command:
        # argparse takes the program's name from it, for usage lines and errors.
        script_main = runpy.run_path(str(script), run_name=f"scripts.{name}")["main"]
        sys.argv = [f"rlcourse {name}", *argv[1:]]
        return exit_code(script_main(argv[1:]))
    except SystemExit as exc:  # --help, or a usage error (status 2)
        return exit_code(exc.code)
    finally:
        sys.argv = saved


def exit_code(code: object) -> int:
    """The status ``sys.exit(code)`` ends a process with (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
