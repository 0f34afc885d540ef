"""rlcourse core: configs, runs, evaluation, rendering helpers, schedules and plotting.

Nothing here imports `envs` or `agents`; they build on this package.
"""

__version__ = "0.1.0"
