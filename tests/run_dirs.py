"""Finding the run directories a test's training made (``<runs_dir>/<env>/<config>/<stamp>``),
and making one that stopped as a crash would."""

from pathlib import Path

import pytest


def only_run(root: Path) -> Path:
    """The one run directory (a folder with a config.yaml) under ``root``."""
    (run_dir,) = {p.parent for p in Path(root).rglob("config.yaml")}
    return run_dir


def crashed_run(config, monkeypatch, at_step: int = 0) -> tuple[Path, int]:
    """Train a copy of ``config`` filed under ``<runs_dir>/cut`` until it has written a
    checkpoint at step ``at_step`` or later, then stop as a crash would (KeyboardInterrupt
    raised right after that checkpoint); its run directory and the checkpoint's step."""
    from agents.training import train
    from rlcourse.runs import Run

    cut = Path(config.train.runs_dir) / "cut"
    real_checkpoint, written = Run.checkpoint, []

    def crash(self):
        path = real_checkpoint(self)
        if self.step >= at_step:
            written.append(self.step)
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(Run, "checkpoint", crash)
    with pytest.raises(KeyboardInterrupt):
        train(config.model_copy(update={"train": config.train.model_copy(
            update={"runs_dir": str(cut)})}), progress=False)  # fmt: skip
    monkeypatch.setattr(Run, "checkpoint", real_checkpoint)
    return only_run(cut), written[0]
