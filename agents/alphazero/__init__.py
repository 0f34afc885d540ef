"""AlphaZero: PUCT search with an injected evaluator, a policy-value ResNet, self-play and a
single-process learner (see :mod:`agents.alphazero.mcts` for the search)."""

from agents.alphazero.config import (
    AlphaZeroConfig,
    LearnerConfig,
    MCTSConfig,
    NetworkConfig,
    SelfPlayConfig,
)
from agents.alphazero.evaluators import NeuralEvaluator, RolloutEvaluator
from agents.alphazero.learner import AlphaZeroTrainer, Learner, ReplayWindow, alphazero_loss
from agents.alphazero.mcts import MCTS, Evaluator, Game, Node, search_together, visit_policy
from agents.alphazero.network import PolicyValueNet
from agents.alphazero.selfplay import GameRecord, outcome_stats, play_games

__all__ = [
    "MCTS",
    "AlphaZeroConfig",
    "AlphaZeroTrainer",
    "Evaluator",
    "Game",
    "GameRecord",
    "Learner",
    "LearnerConfig",
    "MCTSConfig",
    "NetworkConfig",
    "NeuralEvaluator",
    "Node",
    "PolicyValueNet",
    "ReplayWindow",
    "RolloutEvaluator",
    "SelfPlayConfig",
    "alphazero_loss",
    "outcome_stats",
    "play_games",
    "search_together",
    "visit_policy",
]
