"""Supervised deep-learning modules: the function approximators of every learned agent.

Torsos map observations to features [B, F] (`MLP`, `NatureCNN`, `GridCNN`, `ResNetTower`,
`RecurrentEncoder`, `EntityAttentionEncoder`); heads map features to what an algorithm needs
(`QHead`, `DuelingHead`, `DistributionalHead`, `CategoricalPolicyHead`, `GaussianPolicyHead`,
`ValueHead`). `build_encoder(spec, observation_space)` builds a torso from a config section;
`init_module` re-initialises weights; `summary` lists shapes and parameter counts;
`FlatParameters` puts a module's parameters in one tensor for cheap optimiser steps
(`fused_adam` steps it in one kernel);
`run_layers(layers_of(module), x)` calls a sequential module leaf by leaf.
"""

from rlcourse.nn.attention import EntityAttentionEncoder, EntityEncoding
from rlcourse.nn.chain import layers_of, run_layers, sequential_leaves, sequential_modules
from rlcourse.nn.cnn import GridCNN, NatureCNN
from rlcourse.nn.flat import FlatParameters, fused_adam
from rlcourse.nn.heads import (
    CategoricalPolicyHead,
    DiagGaussian,
    DistributionalHead,
    DuelingHead,
    GaussianPolicyHead,
    NoisyLinear,
    QHead,
    ValueHead,
    dueling_combine,
    masked_logits,
    reset_noise,
)
from rlcourse.nn.init import init_module
from rlcourse.nn.layers import make_activation, make_norm
from rlcourse.nn.mlp import MLP
from rlcourse.nn.recurrent import Hidden, RecurrentEncoder
from rlcourse.nn.resnet import ResidualBlock, ResNetTower
from rlcourse.nn.spec import (
    AttentionSpec,
    CNNSpec,
    MLPSpec,
    NetworkSpec,
    ObservationEncoder,
    TextSpec,
    as_batch,
    build_encoder,
)
from rlcourse.nn.summary import ModelSummary, summary

__all__ = [
    "MLP",
    "AttentionSpec",
    "CNNSpec",
    "CategoricalPolicyHead",
    "DiagGaussian",
    "DistributionalHead",
    "DuelingHead",
    "EntityAttentionEncoder",
    "EntityEncoding",
    "FlatParameters",
    "GaussianPolicyHead",
    "GridCNN",
    "Hidden",
    "MLPSpec",
    "ModelSummary",
    "NatureCNN",
    "NetworkSpec",
    "NoisyLinear",
    "ObservationEncoder",
    "QHead",
    "RecurrentEncoder",
    "ResNetTower",
    "ResidualBlock",
    "TextSpec",
    "ValueHead",
    "as_batch",
    "build_encoder",
    "dueling_combine",
    "fused_adam",
    "init_module",
    "layers_of",
    "make_activation",
    "make_norm",
    "masked_logits",
    "reset_noise",
    "run_layers",
    "sequential_leaves",
    "sequential_modules",
    "summary",
]
