"""The compiled cores built with the project; everything else is declared in pyproject.toml.

``envs.go._core``: the Go rules. ``envs.driving._sim``: the driving simulator's step (traffic,
ego, collisions, rewards, kinematics observation). Their C sources ship in the sdist; build them
in place with ``python setup.py build_ext --inplace`` (``make install`` does it).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("envs.go._core", ["envs/go/_core.c"], extra_compile_args=["-O3"]),
        Extension("envs.driving._sim", ["envs/driving/_sim.c"], extra_compile_args=["-O3"]),
    ]
)
