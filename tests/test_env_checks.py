"""The shared argument check names the argument, the choices and the bad value."""

from __future__ import annotations

import pytest

from envs.checks import check_choice


def test_check_choice_names_what_was_wrong():
    check_choice("mode", "a", ("a", "b"))
    check_choice("render_mode", None, ["human"], optional=True)
    with pytest.raises(ValueError, match=r"mode must be one of \['a', 'b'\], got 'c'"):
        check_choice("mode", "c", ("a", "b"))
    with pytest.raises(ValueError, match="render_mode must be one of"):
        check_choice("render_mode", None, ["human"])
