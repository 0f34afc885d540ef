"""Test-wide settings: headless pygame and matplotlib, one torch thread; a closing line naming
the tests skipped because GNU Go is not installed."""

import os
import re
from collections import Counter

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import torch

pytest_plugins = ["pytester"]  # tests/test_conftest.py runs the summary hook in a pytest of its own

# One thread: results and timings do not depend on the core count, and the two cores of a CI
# machine are not oversubscribed by torch's intra-op pool.
torch.set_num_threads(1)


@pytest.fixture
def runs_dir(tmp_path):
    """A throwaway runs/ folder for configs (`train.runs_dir=<it>`)."""
    path = tmp_path / "runs"
    path.mkdir()
    return path


# ----------------------------------------------------------------------------- GNU Go

GNUGO_INSTALL = "sudo apt-get install gnugo"


def _skip_reason(report) -> str:
    """The reason pytest recorded for a skipped test ('' if it recorded none)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")


def gnugo_skips(reports) -> list[str]:
    """The node ids of the skipped reports whose reason names GNU Go."""
    return [r.nodeid for r in reports if re.search(r"gnu ?go", _skip_reason(r), re.IGNORECASE)]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """One line at the end when tests were skipped for want of GNU Go: the `-ra` summary lists
    them among every other skip, and a count at the bottom is easy to read past. Written after
    pytest's own summary sections, just above the final counts."""
    result = yield
    skipped = gnugo_skips(terminalreporter.stats.get("skipped", []))
    if not skipped:
        return result
    # tests/test_go_rules.py::test_handicap_matches_gnugo[7], [8], ... -> one name, x7
    counts = Counter(nodeid.split("/")[-1].split("[")[0] for nodeid in skipped)
    names = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())
    terminalreporter.write_line(
        f"GNU Go is not installed: {len(skipped)} tests skipped ({names}); "
        f"install it with `{GNUGO_INSTALL}` (.ci/run installs it)",
        yellow=True,
        bold=True,
    )
    return result
