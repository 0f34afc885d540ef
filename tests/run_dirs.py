"""Finding the run directories a test's training made (``<runs_dir>/<env>/<config>/<stamp>``)."""

from pathlib import Path


def only_run(root: Path) -> Path:
    """The one run directory (a folder with a config.yaml) under ``root``."""
    (run_dir,) = {p.parent for p in Path(root).rglob("config.yaml")}
    return run_dir
