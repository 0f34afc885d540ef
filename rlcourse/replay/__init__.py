"""Replay storage for value-based agents, one module per idea: uniform replay and its batch
(`uniform`), prioritized replay (`prioritized`) over a sum tree (`sum_tree`), n-step windows
(`nstep`), observations stored once (`frames`), argument checks (`checks`)."""

from rlcourse.replay.frames import FrameStore
from rlcourse.replay.nstep import ClosedWindow, NStepWindows
from rlcourse.replay.prioritized import PrioritizedReplayBuffer
from rlcourse.replay.sum_tree import SumTree
from rlcourse.replay.uniform import ReplayBatch, ReplayBuffer

__all__ = [
    "ClosedWindow",
    "FrameStore",
    "NStepWindows",
    "PrioritizedReplayBuffer",
    "ReplayBatch",
    "ReplayBuffer",
    "SumTree",
]
