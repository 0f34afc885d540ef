"""Gymnasium environments; importing ``envs`` registers every ``rlcourse/<Name>-v<k>`` id."""

import envs.dialogue  # registers rlcourse/InCarDialogue-v0 and rlcourse/InCarDialogueText-v0
import envs.driving  # registers rlcourse/Highway-v0, rlcourse/HighwayFast-v0, rlcourse/Merge-v0
import envs.go  # registers rlcourse/Go-v0
import envs.gridworld
import envs.memory  # registers rlcourse/TMaze-v0
import envs.tictactoe  # noqa: F401  (registers rlcourse/TicTacToe-v0)
