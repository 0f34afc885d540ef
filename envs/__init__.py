"""Gymnasium environments; importing ``envs`` registers every ``rlcourse/<Name>-v<k>`` id."""

import envs.bandit  # registers rlcourse/Bandit-v0
import envs.blackjack  # registers rlcourse/Blackjack-v0
import envs.car_rental  # registers rlcourse/CarRental-v0
import envs.dialogue  # registers rlcourse/InCarDialogue-v0 and rlcourse/InCarDialogueText-v0
import envs.driving  # registers rlcourse/Highway-v0, rlcourse/HighwayFast-v0, rlcourse/Merge-v0
import envs.gambler  # registers rlcourse/Gambler-v0
import envs.go  # registers rlcourse/Go-v0
import envs.gridworld
import envs.maximization_bias  # registers rlcourse/MaximizationBias-v0
import envs.memory  # registers rlcourse/TMaze-v0
import envs.random_walk  # registers rlcourse/RandomWalk-v0 and rlcourse/RandomWalk19-v0
import envs.tictactoe  # noqa: F401  (registers rlcourse/TicTacToe-v0)
