"""AlphaZero: PUCT or Gumbel search with an injected evaluator, a policy-value ResNet,
self-play, a learner, an arena with an Elo ladder, and the training system that runs in one
process or as Ray actors (see :mod:`agents.alphazero.mcts` and :mod:`agents.alphazero.gumbel`
for the searches, :mod:`agents.alphazero.system` for the system)."""

from agents.alphazero.agent import AlphaZeroAgent
from agents.alphazero.arena import Arena, ArenaReport, EloLadder, MatchResult, play_match
from agents.alphazero.config import (
    AlphaZeroConfig,
    ArenaConfig,
    DistributedConfig,
    GameConfig,
    LearnerConfig,
    MCTSConfig,
    NetworkConfig,
    SelfPlayConfig,
)
from agents.alphazero.evaluators import NeuralEvaluator, RolloutEvaluator
from agents.alphazero.gumbel import GumbelSearch, make_search
from agents.alphazero.learner import Learner, ReplayWindow, alphazero_loss
from agents.alphazero.mcts import (
    MCTS,
    Evaluator,
    Game,
    Node,
    TreeSearch,
    search_together,
    visit_policy,
)
from agents.alphazero.network import PolicyValueNet
from agents.alphazero.selfplay import GameRecord, outcome_stats, play_games
from agents.alphazero.system import GameId, SelfPlaySystem

__all__ = [
    "MCTS",
    "AlphaZeroAgent",
    "AlphaZeroConfig",
    "Arena",
    "ArenaConfig",
    "ArenaReport",
    "DistributedConfig",
    "EloLadder",
    "Evaluator",
    "Game",
    "GameConfig",
    "GameId",
    "GameRecord",
    "GumbelSearch",
    "Learner",
    "LearnerConfig",
    "MCTSConfig",
    "MatchResult",
    "NetworkConfig",
    "NeuralEvaluator",
    "Node",
    "PolicyValueNet",
    "ReplayWindow",
    "RolloutEvaluator",
    "SelfPlayConfig",
    "SelfPlaySystem",
    "TreeSearch",
    "alphazero_loss",
    "make_search",
    "outcome_stats",
    "play_games",
    "play_match",
    "search_together",
    "visit_policy",
]
