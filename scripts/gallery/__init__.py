"""The Sutton & Barto (2018) figure gallery that `scripts/figures.py` draws (docs/figures.md)."""

from __future__ import annotations

from scripts.gallery import chapter2, chapter4, chapter5, chapter6, chapter7, chapter8
from scripts.gallery.core import Figure, Job, make_figures

FIGURES: dict[str, Figure] = {
    f.number: f
    for m in (chapter2, chapter4, chapter5, chapter6, chapter7, chapter8)
    for f in m.FIGURES
}

__all__ = ["FIGURES", "Figure", "Job", "make_figures"]
