"""What every command does with the ways it can end early, so that none ends in a traceback.

`command(run)` turns a script's ``run(argv) -> exit code`` into its ``main``:

- a `rlcourse.files.FileError` (a file that cannot be read as data, or written) ends it with
  one ``error:`` line naming the file, exit code 1;
- Ctrl-C ends it with exit code 130: after a training run wrote its checkpoint
  (`rlcourse.runs.TrainingInterrupted`) with the command that carries on, else with one line.

Kept free of heavy imports, so that ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Main = Callable[[list[str] | None], int]
INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def command(run: Main, resume: str | None = None) -> Main:
    """``main(argv)`` from ``run(argv)``; ``resume`` is the command line that carries on an
    interrupted run, with ``{run_dir}`` where its directory goes."""

    def main(argv: list[str] | None = None) -> int:
        try:
            return run(argv)
        except KeyboardInterrupt as exc:
            run_dir = getattr(exc, "run_dir", None)
            if run_dir is not None and resume is not None:
                print(f"{exc}\ncarry on with: {resume.format(run_dir=run_dir)}", file=sys.stderr)
            else:
                print("interrupted", file=sys.stderr)
            return INTERRUPTED
        except Exception as exc:
            from rlcourse.files import FileError

            if not isinstance(exc, FileError):
                raise
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return main
