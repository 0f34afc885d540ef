"""The AlphaZero config section: game, search, self-play, network, learner, arena,
distributed settings and optional supervised pre-training."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from rlcourse.config import AgentConfig
from rlcourse.schedules import FrozenModel, Probability, StepSize, schedule_of

Value = Annotated[float, Field(ge=-1.0, le=1.0)]


class MCTSConfig(FrozenModel):
    simulations: PositiveInt = Field(default=200, description="new simulations per move")
    c_puct: PositiveFloat = Field(default=1.5, description="weight of the prior term in PUCT")
    fpu: Value = Field(default=0.0, description="Q assumed for a child never visited")
    dirichlet_fraction: Probability = Field(
        default=0.25, description="share of Dirichlet noise in the root priors (self-play only)"
    )
    dirichlet_total: PositiveFloat = Field(
        default=10.0,
        description="alpha = dirichlet_total / legal moves at the root (0.03 on 19x19)",
    )
    virtual_loss: NonNegativeFloat = Field(
        default=1.0,
        description="visits (each valued -1) added along a path while its leaf is in flight",
    )
    leaves_per_call: PositiveInt = Field(
        default=8, description="simulations in flight per tree per evaluator call"
    )
    root: Literal["puct", "gumbel"] = Field(
        default="puct",
        description="puct: PUCT with root Dirichlet noise, visit-count policy targets; gumbel: "
        "Gumbel top-k with sequential halving at the root, improved-policy targets "
        "(agents.alphazero.gumbel)",
    )
    considered_actions: PositiveInt = Field(
        default=16, description="gumbel: root actions sequential halving starts from (m)"
    )
    c_visit: NonNegativeFloat = Field(
        default=50.0, description="gumbel: sigma(q) = (c_visit + max visits) * c_scale * q"
    )
    c_scale: PositiveFloat = Field(default=1.0, description="gumbel: see c_visit")
    q_normalization: Literal["bounds", "minmax"] = Field(
        default="bounds",
        description="gumbel: completed Q mapped to [0, 1] from the value range [-1, 1] (bounds), "
        "or by the min and max of each node's completed values (minmax, as mctx)",
    )
    forced_playouts_k: NonNegativeFloat = Field(
        default=0.0,
        description="puct: with root noise, a root child with fewer than sqrt(k P N) visits is "
        "chosen first, and the policy target takes those forced visits back (KataGo: 2; 0: off)",
    )
    score_utility: NonNegativeFloat = Field(
        default=0.0,
        description="weight w of the score head in the searched value: clip(value + w * "
        "tanh(score margin / score_scale), -1, 1) (KataGo's score utility; 0: off; needs "
        "network.score_head)",
    )
    score_scale: PositiveFloat = Field(
        default=0.2,
        description="the margin, as a share of the board area, at which the score utility is "
        "tanh(1) of w",
    )


class SelfPlayConfig(FrozenModel):
    temperature_moves: NonNegativeInt = Field(
        default=8,
        description="moves sampled from the visits at temperature 1; greedy afterwards (puct "
        "root; a gumbel root's move is sampled by its Gumbel draw at every move)",
    )
    resign_threshold: Annotated[float, Field(ge=-1.0, lt=0.0)] | None = Field(
        default=-0.9, description="resign when the root and best-child values fall below this"
    )
    resign_check_fraction: Probability = Field(
        default=0.1,
        description="games played out with resignation off to measure false resignations",
    )
    parallel_games: PositiveInt = Field(
        default=8, description="games sharing one batched evaluation"
    )
    full_search_probability: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=1.0,
        description="playout cap randomisation: share of moves searched in full (root noise, "
        "policy target trained on); the others get fast_simulations without noise and only "
        "their value targets are trained on (KataGo: 0.25; 1: off)",
    )
    fast_simulations: PositiveInt | None = Field(
        default=None,
        description="simulations of a fast search (null: a quarter of mcts.simulations, at "
        "least 1)",
    )


class NetworkConfig(FrozenModel):
    filters: PositiveInt = 64
    blocks: NonNegativeInt = 5
    policy_channels: PositiveInt = Field(
        default=2, description="1x1 conv channels of the policy head"
    )
    value_channels: PositiveInt = Field(
        default=1, description="1x1 conv channels of the value head"
    )
    value_hidden: PositiveInt = Field(
        default=64, description="width of the value head's hidden layer"
    )
    ownership_head: bool = Field(
        default=False,
        description="go: an auxiliary head predicting the final area ownership of every point",
    )
    score_head: bool = Field(
        default=False,
        description="go: an auxiliary head predicting the final score margin / board area",
    )


class LearnerConfig(FrozenModel):
    lr: schedule_of(StepSize) = Field(  # type: ignore[valid-type]
        default=1e-3, description="learning rate, constant or a schedule over gradient steps"
    )
    weight_decay: NonNegativeFloat = 1e-4
    batch_size: PositiveInt = 128
    replay_window: PositiveInt = Field(default=50_000, description="positions kept for training")
    min_replay: PositiveInt = Field(default=512, description="positions needed before training")
    games_per_iteration: PositiveInt = 32
    steps_per_iteration: PositiveInt = Field(default=64, description="gradient steps per iteration")
    augment: bool = Field(default=True, description="train on a random symmetry of each position")
    value_q_weight: Probability = Field(
        default=0.0,
        description="weight of the root value in the value target (0: the outcome alone)",
    )
    ownership_weight: NonNegativeFloat = Field(
        default=1.5,
        description="weight of the ownership loss (mean binary cross-entropy over the points; "
        "KataGo's 1.5 / area on the sum); used with network.ownership_head",
    )
    score_weight: NonNegativeFloat = Field(
        default=1.0,
        description="weight of the score loss (Huber, delta 1, on margin / board area); used "
        "with network.score_head",
    )


class GameConfig(FrozenModel):
    """The game played: Go-lite (``board_size``, ``komi``, ``history``) or tic-tac-toe."""

    name: Literal["go", "tictactoe"] = "go"
    board_size: Annotated[int, Field(ge=5, le=19)] = Field(default=9, description="go only")
    komi: float = Field(default=7.5, description="points added to white's area (go only)")
    history: NonNegativeInt = Field(default=3, description="past positions in the planes (go)")
    move_cap: PositiveInt | None = Field(default=None, description="go only; default 2 * N * N")


Opponent = Literal["random", "mcts", "gnugo"]


class ArenaConfig(FrozenModel):
    every: NonNegativeInt = Field(
        default=5,
        description="arena round every N training iterations (0: never); one due while the "
        "last is still playing starts, with the newest network, when that one ends",
    )
    games: PositiveInt = Field(default=20, description="games per opponent, colours alternating")
    simulations: PositiveInt = Field(default=50, description="search simulations per move")
    temperature_moves: NonNegativeInt = Field(
        default=2, description="opening moves sampled from the visits, so games differ"
    )
    promotion_score: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=0.55, description="score (draws half) against the best that promotes a network"
    )
    vs_best: bool = Field(
        default=True,
        description="play each new network against the best so far and promote it at "
        "promotion_score (false: no such match, every network is promoted, as in AlphaZero, "
        "whose self-play always uses the newest network: a round then costs only the fixed "
        "opponents' games)",
    )
    opponents: tuple[Opponent, ...] = Field(
        default=("random", "mcts"), description="fixed opponents: random, mcts, gnugo"
    )
    mcts_simulations: PositiveInt = Field(default=200, description="plain MCTS opponent")
    mcts_rollouts: PositiveInt = Field(default=1, description="rollouts per plain MCTS leaf")
    gnugo_level: Annotated[int, Field(ge=0, le=10)] = 10
    sgf_games: NonNegativeInt = Field(
        default=2, description="games of each match written as SGF into the run directory"
    )
    background: bool = Field(
        default=True,
        description="one-process runs (workers 0): play arena rounds on a thread beside "
        "self-play and training, as Ray runs do (false: each round holds the run up); training "
        "is the same either way, only the step at which a round's scores are logged moves",
    )


class DistributedConfig(FrozenModel):
    workers: NonNegativeInt = Field(
        default=0, description="self-play actors on Ray (0: everything in one process)"
    )
    games_per_call: PositiveInt = Field(
        default=8, description="games a self-play actor plays per request"
    )
    max_restarts: NonNegativeInt = Field(
        default=3, description="times Ray restarts a self-play actor that died"
    )
    num_cpus: PositiveInt | None = Field(
        default=None, description="CPUs of a local cluster (all when null)"
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        default="cpu",
        description="where the learner and the self-play searches run the network "
        "(auto: cuda when available)",
    )


class PretrainConfig(FrozenModel):
    """Supervised pre-training on SGF game records before the first self-play game of a new
    run (see :mod:`agents.alphazero.pretrain`)."""

    sgf: tuple[str, ...] = Field(
        min_length=1, description="SGF files, folders (their *.sgf) or glob patterns"
    )
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 256
    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 1e-4
    validation_fraction: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.1, description="share of the games held out to validate (0: none)"
    )
    patience: PositiveInt | None = Field(
        default=None, description="stop after N epochs without a better validation loss"
    )
    augment: bool = Field(default=True, description="train on all 8 symmetries of each position")

    @field_validator("sgf", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class AlphaZeroConfig(AgentConfig):
    name: Literal["alphazero"] = "alphazero"
    game: GameConfig = Field(default_factory=GameConfig)
    mcts: MCTSConfig = Field(default_factory=MCTSConfig)
    selfplay: SelfPlayConfig = Field(default_factory=SelfPlayConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    learner: LearnerConfig = Field(default_factory=LearnerConfig)
    arena: ArenaConfig = Field(default_factory=ArenaConfig)
    distributed: DistributedConfig = Field(default_factory=DistributedConfig)
    pretrain: PretrainConfig | None = Field(
        default=None, description="supervised pre-training from SGF records (null: none)"
    )

    @model_validator(mode="after")
    def _pretrain_on_go(self) -> AlphaZeroConfig:
        if self.pretrain is not None and self.game.name != "go":
            raise ValueError(f"pretrain reads Go records (SGF); game.name is {self.game.name!r}")
        return self

    @model_validator(mode="after")
    def _katago_options_fit(self) -> AlphaZeroConfig:
        net, mcts, selfplay = self.network, self.mcts, self.selfplay
        heads = [h for h in ("ownership_head", "score_head") if getattr(net, h)]
        if heads and self.game.name != "go":
            raise ValueError(
                f"network.{heads[0]} needs a game scored by area (go); game.name is "
                f"{self.game.name!r}"
            )
        if mcts.score_utility and not net.score_head:
            raise ValueError("mcts.score_utility needs network.score_head: true")
        if mcts.forced_playouts_k and mcts.root != "puct":
            raise ValueError("mcts.forced_playouts_k applies to the puct root; mcts.root is "
                             f"{mcts.root!r}")  # fmt: skip
        fast = selfplay.fast_simulations
        if fast is not None and fast > mcts.simulations:
            raise ValueError(
                f"selfplay.fast_simulations ({fast}) must not exceed mcts.simulations "
                f"({mcts.simulations})"
            )
        return self
