"""Transcripts as text (``ansi``) and a pygame chat view (``rgb_array`` / ``human``).

The chat view shows the latest exchanges as bubbles (system on the left, driver on the
right, what the system heard under each driver bubble, misrecognitions in red) beside a panel
with the belief: intent scores and, for each slot of the believed intents, the best value and
its score. pygame is imported only inside the renderer's methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from envs.dialogue.ontology import DONT_CARE
from rlcourse.render import FontCache, PygameWindow

if TYPE_CHECKING:
    from envs.dialogue.belief import BeliefState
    from envs.dialogue.env import Turn
    from envs.dialogue.error_model import HeardAct

WIDTH, HEIGHT = 960, 640  # [px]
PANEL = 300  # [px] width of the belief panel
MARGIN, PAD, GAP = 12, 8, 8  # [px]
BUBBLE_MAX = 420  # [px] widest bubble
FOOTER = 120  # [px] kept free at the bottom of the panel
BACKGROUND = (245, 245, 240)
SYSTEM_BUBBLE = (206, 224, 255)
USER_BUBBLE = (212, 240, 206)
PANEL_BG = (40, 44, 52)
TEXT = (20, 20, 20)
HEARD_OK = (90, 90, 90)
HEARD_WRONG = (200, 30, 30)
PANEL_TEXT = (230, 230, 230)
BAR = (97, 175, 239)


def heard_summary(turn: Turn) -> list[tuple[str, bool]]:
    """``("inform(slot=value) 0.83 | inform(slot=other) 0.12", wrong?)`` for each act the
    system heard of a user turn (its n-best list; wrong: the best hypothesis is wrong); deleted
    acts appear as ``"<missed> act"``."""
    out = [(format_n_best(h), h.error is not None) for h in turn.heard]
    heard_said = [h.said for h in turn.heard]
    for act in turn.acts:
        if act in heard_said:
            heard_said.remove(act)
        else:
            out.append((f"<missed> {act}", True))
    return out


def format_n_best(heard: HeardAct) -> str:
    """``act 0.83 | act 0.12``: the hypotheses heard for one act, best first."""
    return " | ".join(f"{act} {c:.2f}" for act, c in heard.n_best)


def render_transcript(transcript: Sequence[Turn]) -> str:
    """The dialogue as lines ``SYS: ...`` / ``USR: ...`` with the heard acts under each
    driver line (``!`` marks a misrecognition)."""
    lines = []
    for turn in transcript:
        if turn.speaker == "system":
            lines.append(f"SYS: {turn.text}   [{turn.acts[0]}]")
        else:
            lines.append(f"USR: {turn.text}")
            heard = ", ".join(f"{'!' if wrong else ''}{s}" for s, wrong in heard_summary(turn))
            lines.append(f"     heard: {heard or '(nothing)'}")
    return "\n".join(lines) + "\n"


class ChatRenderer:
    """Draws the chat view; ``frame`` returns [HEIGHT, WIDTH, 3] uint8, ``show`` opens a window."""

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self._fonts = FontCache()
        self._window = PygameWindow()

    def frame(
        self, transcript: Sequence[Turn], belief: BeliefState, footer: Sequence[str] = ()
    ) -> np.ndarray:
        import pygame

        surface = self.surface(transcript, belief, footer)
        return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()

    def show(
        self, transcript: Sequence[Turn], belief: BeliefState, footer: Sequence[str] = ()
    ) -> None:
        self._window.show(self.surface(transcript, belief, footer), "in-car dialogue", self.fps)

    def close(self) -> None:
        self._window.close()

    def surface(
        self, transcript: Sequence[Turn], belief: BeliefState, footer: Sequence[str] = ()
    ) -> Any:
        """The view; ``footer`` lines (e.g. the hidden goal, the outcome) close the panel."""
        import pygame

        surface = pygame.Surface((WIDTH, HEIGHT))
        surface.fill(BACKGROUND)
        self._draw_chat(surface, transcript)
        self._draw_panel(surface, belief)
        self._draw_footer(surface, footer)
        return surface

    # ------------------------------------------------------------------------------ chat

    def _wrap(self, text: str, font: Any, width: int) -> list[str]:
        lines, line = [], ""
        for word in text.split():
            trial = f"{line} {word}".strip()
            if font.size(trial)[0] <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        return [*lines, line] if line else lines

    def _bubble(self, turn: Turn) -> Any:
        """The bubble of one turn (with the heard acts under a driver's) as a surface."""
        import pygame

        font, small = self._fonts(24), self._fonts(18)
        lines = self._wrap(turn.text, font, BUBBLE_MAX - 2 * PAD)
        notes: list[tuple[str, bool]] = []
        if turn.speaker == "user":
            for text, wrong in heard_summary(turn):
                notes += [(line, wrong) for line in self._wrap(text, small, BUBBLE_MAX - 2 * PAD)]
        line_h, note_h = font.get_linesize(), small.get_linesize()
        width = (
            max([font.size(line)[0] for line in lines] + [small.size(n)[0] for n, _ in notes])
            + 2 * PAD
        )
        height = len(lines) * line_h + len(notes) * note_h + 2 * PAD
        bubble = pygame.Surface((width, height), pygame.SRCALPHA)
        colour = SYSTEM_BUBBLE if turn.speaker == "system" else USER_BUBBLE
        pygame.draw.rect(bubble, colour, bubble.get_rect(), border_radius=10)
        y = PAD
        for line in lines:
            bubble.blit(font.render(line, True, TEXT), (PAD, y))
            y += line_h
        for note, wrong in notes:
            bubble.blit(small.render(note, True, HEARD_WRONG if wrong else HEARD_OK), (PAD, y))
            y += note_h
        return bubble

    def _draw_chat(self, surface: Any, transcript: Sequence[Turn]) -> None:
        """The latest bubbles that fit, newest at the bottom."""
        right = WIDTH - PANEL - MARGIN
        y = HEIGHT - MARGIN
        for turn in reversed(transcript):
            bubble = self._bubble(turn)
            y -= bubble.get_height()
            if y < MARGIN:
                break
            x = MARGIN if turn.speaker == "system" else right - bubble.get_width()
            surface.blit(bubble, (x, y))
            y -= GAP

    # ----------------------------------------------------------------------------- panel

    def _draw_panel(self, surface: Any, belief: BeliefState) -> None:
        import pygame

        x0 = WIDTH - PANEL
        pygame.draw.rect(surface, PANEL_BG, (x0, 0, PANEL, HEIGHT))
        title, font = self._fonts(24), self._fonts(18)
        o = belief.ontology
        y = MARGIN
        surface.blit(title.render(f"Belief  (turn {belief.turn})", True, PANEL_TEXT), (x0 + 10, y))
        y += title.get_linesize() + 4
        bar_w = PANEL - 150
        for i, intent in enumerate(o.intents):
            score = float(belief.intent_scores[i])
            done = " (done)" if intent.name in belief.executed else ""
            surface.blit(font.render(intent.name + done, True, PANEL_TEXT), (x0 + 10, y))
            self._bar(surface, x0 + 140, y + 2, bar_w, score)
            y += font.get_linesize()
        y += 6
        shown = [t for i, t in enumerate(o.intents) if belief.intent_scores[i] > 0]
        for intent in shown:
            surface.blit(title.render(intent.name, True, PANEL_TEXT), (x0 + 10, y))
            y += title.get_linesize()
            for slot in intent.slots:
                ranked = belief.ranked(slot)
                value, score = ranked[0] if ranked else ("-", 0.0)
                value = "don't care" if value == DONT_CARE else value
                tick = " (confirmed)" if slot in belief.confirmed else ""
                surface.blit(font.render(f"{slot}: {value}{tick}", True, PANEL_TEXT), (x0 + 16, y))
                y += font.get_linesize()
                self._bar(surface, x0 + 16, y, PANEL - 40, float(score))
                y += 10
                if y > HEIGHT - FOOTER:
                    return

    def _draw_footer(self, surface: Any, footer: Sequence[str]) -> None:
        import pygame

        font = self._fonts(18)
        x0 = WIDTH - PANEL
        lines = [w for text in footer for w in self._wrap(text, font, PANEL - 20)]
        y = HEIGHT - MARGIN - len(lines) * font.get_linesize()
        pygame.draw.rect(surface, PANEL_BG, (x0, y - 6, PANEL, HEIGHT - y + 6))
        pygame.draw.line(surface, PANEL_TEXT, (x0 + 10, y - 6), (WIDTH - 10, y - 6))
        for line in lines:
            surface.blit(font.render(line, True, PANEL_TEXT), (x0 + 10, y))
            y += font.get_linesize()

    @staticmethod
    def _bar(surface: Any, x: int, y: int, width: int, fraction: float) -> None:
        import pygame

        pygame.draw.rect(surface, (70, 74, 82), (x, y, width, 8))
        pygame.draw.rect(surface, BAR, (x, y, round(width * min(max(fraction, 0.0), 1.0)), 8))
