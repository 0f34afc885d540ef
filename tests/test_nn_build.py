"""Encoders built from specs and observation spaces, weight initialisation, model summaries."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from pydantic import ValidationError
from torch import nn

import envs  # noqa: F401  (registers the gridworld ids)
from rlcourse.nn import (
    MLP,
    CNNSpec,
    EntityAttentionEncoder,
    GridCNN,
    MLPSpec,
    NatureCNN,
    NetworkSpec,
    NoisyLinear,
    RecurrentEncoder,
    as_batch,
    build_encoder,
    init_module,
    summary,
)

torch.set_num_threads(1)
Box, Discrete = gym.spaces.Box, gym.spaces.Discrete


# ----------------------------------------------------------------------------- specs


def test_spec_from_config_mapping_and_its_errors():
    spec = NetworkSpec.model_validate(
        {"mlp": {"hidden": [32, 16], "norm": "layer"}, "cnn": {"kind": "grid", "channels": [8]}}
    )
    assert spec.mlp.hidden == (32, 16) and spec.cnn.channels == (8,)
    with pytest.raises(ValidationError, match="must be odd"):
        CNNSpec(kernel_size=4)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        MLPSpec.model_validate({"hiden": [4]})
    with pytest.raises(ValidationError, match="greater than 0"):
        MLPSpec(hidden=(8, 0))
    with pytest.raises(ValidationError, match="'layer' or 'batch'"):
        MLPSpec(norm="group")


def test_discrete_observations_are_one_hot():
    space = Discrete(5)
    encoder = build_encoder(MLPSpec(hidden=(8,)), space)
    obs = as_batch([0, 3], space)
    assert obs.dtype == torch.int64
    assert encoder.preprocess(obs).tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 1, 0]]
    assert encoder(obs).shape == (2, 8) and encoder.out_features == 8


def test_discrete_with_a_start_offset_and_multi_discrete():
    encoder = build_encoder(MLPSpec(hidden=(4,)), Discrete(3, start=-1))
    assert encoder.preprocess(torch.tensor([-1, 1])).tolist() == [[1, 0, 0], [0, 0, 1]]
    space = gym.spaces.MultiDiscrete([3, 2])
    encoder = build_encoder(MLPSpec(hidden=(4,)), space)
    assert encoder.preprocess(as_batch([[2, 0]], space)).tolist() == [[0, 0, 1, 1, 0]]


def test_vector_and_matrix_boxes_are_flattened():
    space = Box(-1, 1, (2, 3), np.float32)
    encoder = build_encoder(MLPSpec(hidden=(8, 4)), space)
    assert encoder.torso.in_features == 6
    assert encoder(as_batch(np.zeros((5, 2, 3)), space)).shape == (5, 4)


def test_small_uint8_images_use_the_grid_cnn_and_are_scaled():
    env = gym.make("rlcourse/RussellNorvig4x3-v0", obs_type="image")
    space = env.observation_space
    encoder = build_encoder(NetworkSpec(mlp=MLPSpec(hidden=(16,))), space)
    cnn, mlp = encoder.torso
    assert isinstance(cnn, GridCNN) and cnn.out_features == 32 * 3 * 4
    assert mlp.in_features == 384 and encoder.out_features == 16
    obs, _ = env.reset(seed=0)
    batch = as_batch([obs, obs], space)
    assert batch.dtype == torch.uint8 and batch.shape == (2, 5, 3, 4)
    assert encoder.preprocess(batch).max() == 1.0
    assert encoder(batch).shape == (2, 16)


def test_large_images_use_the_nature_cnn_and_floats_are_not_scaled():
    space = Box(0.0, 1.0, (4, 84, 84), np.float32)
    encoder = build_encoder(NetworkSpec(mlp=MLPSpec(hidden=(512,))), space)
    assert isinstance(encoder.torso[0], NatureCNN)
    assert encoder.preprocess.scale == 1.0
    assert encoder(torch.rand(1, 4, 84, 84)).shape == (1, 512)
    grid = build_encoder(NetworkSpec(cnn=CNNSpec(kind="grid", channels=(4,))), space)
    assert isinstance(grid.torso[0], GridCNN)


@pytest.mark.parametrize("obs_type", ["onehot", "coords", "image", "index"])
def test_every_gridworld_observation_type_builds(obs_type):
    env = gym.make("rlcourse/CliffWalking-v0", obs_type=obs_type)
    encoder = build_encoder(NetworkSpec(), env.observation_space)
    obs, _ = env.reset(seed=0)
    assert encoder(as_batch([obs], env.observation_space)).shape == (1, 64)


def test_unsupported_spaces_and_wrong_shapes_are_refused():
    space = gym.spaces.Dict({"a": Discrete(2)})
    with pytest.raises(TypeError, match="FlattenObservation"):
        build_encoder(NetworkSpec(), space)
    with pytest.raises(ValueError, match=r"observations have shape \(2, 4\)"):
        as_batch(np.zeros((2, 4)), Box(0, 1, (3,)))


# ----------------------------------------------------------------------------- init


def test_orthogonal_init_with_gain_and_bias():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.LayerNorm(6), nn.Linear(6, 3))
    init_module(model, "orthogonal", gain=2.0, bias=0.5)
    w = model[0].weight
    assert torch.allclose(w @ w.T, 4.0 * torch.eye(6), atol=1e-5)
    assert torch.all(model[0].bias == 0.5) and torch.all(model[2].bias == 0.5)
    assert torch.all(model[1].weight == 1) and torch.all(model[1].bias == 0)  # norms untouched


def test_xavier_and_kaiming_scales():
    torch.manual_seed(0)
    layer = init_module(nn.Linear(400, 600), "xavier_uniform", gain=1.0)
    assert layer.weight.abs().max() <= math.sqrt(6 / 1000) + 1e-7
    layer = init_module(nn.Linear(1000, 800), "kaiming_normal", gain=math.sqrt(2))
    assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 1000), rel=0.02)
    layer = init_module(nn.Conv2d(10, 500, 3), "kaiming_uniform", gain=1.0)
    assert layer.weight.std().item() == pytest.approx(1 / math.sqrt(90), rel=0.02)


def test_init_reaches_recurrent_weights_and_skips_noisy_layers():
    torch.manual_seed(0)
    rnn = init_module(RecurrentEncoder(4, hidden_size=4, cell="gru"), "orthogonal", bias=0.0)
    assert torch.all(rnn.rnn.bias_hh_l0 == 0)
    w = rnn.rnn.weight_hh_l0  # [3H, H]: orthonormal columns
    assert torch.allclose(w.T @ w, torch.eye(4), atol=1e-5)
    noisy = NoisyLinear(4, 2)
    sigma = noisy.weight_sigma.clone()
    init_module(noisy, "orthogonal")
    assert torch.equal(noisy.weight_sigma, sigma)


def test_init_refuses_unknown_schemes():
    with pytest.raises(ValueError, match="unknown init scheme 'he'"):
        init_module(nn.Linear(2, 2), "he")


# ----------------------------------------------------------------------------- summary


def test_summary_counts_a_small_mlp_by_hand():
    model = MLP(4, hidden=(8,), out_features=2)
    report = summary(model, torch.zeros(1, 4))
    # Linear(4, 8): 4*8 + 8 = 40; Linear(8, 2): 8*2 + 2 = 18
    assert report.total_params == report.trainable_params == 58
    assert [(r.name, r.kind, r.output_shape, r.params) for r in report.rows] == [
        ("layers.0", "Linear", "[1, 8]", 40),
        ("layers.1", "ReLU", "[1, 8]", 0),
        ("layers.2", "Linear", "[1, 2]", 18),
    ]
    text = str(report)
    assert "total params: 58" in text and "layers.2" in text and "[1, 2]" in text


def test_summary_of_frozen_parameters_tuple_outputs_and_mode():
    model = RecurrentEncoder(3, hidden_size=2, cell="gru")
    model.rnn.bias_hh_l0.requires_grad_(False)
    model.train()
    report = summary(model, torch.zeros(1, 5, 3))
    gru = 3 * (2 * 3 + 2 * 2 + 2 + 2)  # three gates: W_ih, W_hh, b_ih, b_hh
    assert report.total_params == gru and report.trainable_params == gru - 6
    assert report.rows[0].output_shape == "([1, 5, 2], [1, 1, 2])"
    assert model.training  # mode restored
    assert "non-trainable params: 6" in str(report)


def test_summary_rows_add_up_for_modules_that_own_parameters_and_children():
    model = EntityAttentionEncoder(5, embed_dim=16, num_heads=2)
    report = summary(model, (torch.zeros(2, 4, 5), torch.ones(2, 4, dtype=torch.bool)))
    assert sum(r.params for r in report.rows) == report.total_params
    by_name = {r.name: r for r in report.rows}
    attention = by_name["blocks.0.attn"]  # owns in_proj (3 * 16 * 16 + 48) next to out_proj
    assert attention.params == 3 * 16 * 16 + 3 * 16 and attention.output_shape == "([2, 4, 16])"
    assert by_name["blocks.0.attn.out_proj"].params == 16 * 16 + 16


# ----------------------------------------------------------------------------- entity observations


def test_attention_spec_builds_an_entity_encoder_that_ignores_absent_entities():
    spec = NetworkSpec.model_validate(
        {"mlp": {"hidden": [16]}, "attention": {"embed_dim": 8, "num_heads": 2, "pooling": "mean"}}
    )
    space = Box(-1.0, 1.0, shape=(5, 4), dtype=np.float32)
    encoder = build_encoder(spec, space)
    assert encoder.out_features == 16
    obs = torch.rand(3, 5, 4)
    obs[:, :, 0] = torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0])  # presence flags
    changed = obs.clone()
    changed[:, 2, 1:] = 123.0  # an absent vehicle moves: nothing may change
    torch.testing.assert_close(encoder(obs), encoder(changed))
    changed[:, 1, 1:] = 123.0  # a present one does
    assert not torch.allclose(encoder(obs), encoder(changed))


def test_attention_spec_errors_name_the_problem():
    with pytest.raises(ValidationError, match="divisible"):
        NetworkSpec.model_validate({"attention": {"embed_dim": 10, "num_heads": 4}})
    spec = NetworkSpec.model_validate({"attention": {"presence_feature": 4}})
    with pytest.raises(ValueError, match="presence_feature is 4 but entities have only 4"):
        build_encoder(spec, Box(-1.0, 1.0, shape=(5, 4), dtype=np.float32))


def test_without_attention_an_entity_box_is_flattened_for_the_mlp():
    encoder = build_encoder(NetworkSpec(), Box(-1.0, 1.0, shape=(5, 4), dtype=np.float32))
    assert encoder(torch.rand(2, 5, 4)).shape == (2, 64)


# ----------------------------------------------------------------------------- token observations


def test_text_spec_reads_each_row_up_to_its_last_token():
    spec = NetworkSpec.model_validate(
        {"mlp": {"hidden": [8]}, "text": {"embed_dim": 4, "hidden_size": 6}}
    )
    encoder = build_encoder(spec, Box(0, 19, shape=(7,), dtype=np.int64))
    assert encoder.out_features == 8
    tokens = torch.tensor([[3, 5, 7, 0, 0, 0, 0], [3, 5, 7, 9, 11, 2, 4]])
    torso = encoder.torso[0]
    # The first row's feature is the recurrent output after its third token, as if unpadded.
    alone, _ = torso.rnn(torso.embed(tokens[:1, :3]))
    torch.testing.assert_close(torso(tokens)[0], alone[0, -1])
    # Later tokens change the second row only.
    changed = tokens.clone()
    changed[1, 5] = 12
    out, out_changed = encoder(tokens), encoder(changed)
    torch.testing.assert_close(out[0], out_changed[0])
    assert not torch.allclose(out[1], out_changed[1])


def test_text_spec_needs_token_ids():
    spec = NetworkSpec.model_validate({"text": {}})
    with pytest.raises(TypeError, match="token ids"):
        build_encoder(spec, Box(-1.0, 1.0, shape=(7,), dtype=np.float32))
