"""The parts of `rlcourse.buffers`: a sum tree, reference-counted frame storage, n-step windows."""

from rlcourse.replay.frames import FrameStore
from rlcourse.replay.nstep import ClosedWindow, NStepWindows
from rlcourse.replay.sum_tree import SumTree

__all__ = ["ClosedWindow", "FrameStore", "NStepWindows", "SumTree"]
