"""DESIGN.md's layering holds: `scripts -> agents | envs -> rlcourse`, and envs runs without
torch. The contracts live in pyproject.toml's [tool.importlinter] (`make lint` runs them too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"  # from the dev extra


def test_the_import_contracts_are_kept():
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_importing_envs_leaves_torch_unimported():
    """The contract lets rlcourse.files import torch inside functions; nothing may at import."""
    code = "import sys, envs; sys.exit('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr or "importing envs imported torch"
