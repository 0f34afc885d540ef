"""The library versions the sb3 and rllib backends are tested with, checked before import.

A version outside the range fails with one line naming the installed and the supported
versions, instead of an error deep inside the library. The ranges match pyproject.toml.
"""

from __future__ import annotations

from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# distribution (as pip names it) -> the range the suite is tested with
SUPPORTED: dict[str, str] = {
    "stable-baselines3": ">=2.6,<2.10",
    "sb3-contrib": ">=2.6,<2.10",
    "ray": ">=2.50,<2.61",
}


class BackendVersionError(RuntimeError):
    """A backend library that is missing or outside its tested range."""


def require(distribution: str) -> str:
    """The installed version of `distribution`; BackendVersionError when missing or unsupported."""
    supported = SUPPORTED[distribution]
    install = f"pip install '{distribution}{supported}'"
    try:
        installed = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        raise BackendVersionError(
            f"{distribution} is not installed; rlcourse supports {distribution}{supported} "
            f"({install})"
        ) from None
    if not SpecifierSet(supported).contains(Version(installed), prereleases=True):
        raise BackendVersionError(
            f"{distribution} {installed} is installed, but rlcourse supports "
            f"{distribution}{supported} ({install})"
        )
    return installed
