"""scripts/figures.py: the gallery lists every figure the issue names, refuses unknown ones,
and draws a PNG (Figure 4.3 is exact and fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from scripts.gallery import FIGURES

ROOT = Path(__file__).resolve().parent.parent
BOOK = [
    "2.2", "2.3", "2.4", "2.5", "2.6", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "6.2",
    "6.3", "6.4", "6.5", "7.2", "8.2", "8.4", "8.5", "Example 8.4",
]  # fmt: skip


def figures_main():
    spec = importlib.util.spec_from_file_location("script_figures", ROOT / "scripts" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_every_figure_of_the_issue_is_in_the_gallery():
    assert set(BOOK) <= set(FIGURES)
    assert len({f.filename for f in FIGURES.values()}) == len(FIGURES)
    for figure in FIGURES.values():
        assert figure.book.startswith("Sutton & Barto (2018)") and figure.caption


def test_unknown_figures_are_named(capsys):
    assert figures_main()(["9.9", "--out", "unused"]) == 2
    assert "unknown figure(s) 9.9" in capsys.readouterr().err
    assert figures_main()([]) == 2


def test_list_and_draw_one_figure(tmp_path, capsys):
    main = figures_main()
    assert main(["--list"]) == 0
    assert "Example 8.4" in capsys.readouterr().out
    assert main(["4.3", "--quick", "--workers", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    png = tmp_path / "figure_4_3.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
