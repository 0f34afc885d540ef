"""MLP, CNN encoders and the ResNet tower: shapes, options, gradients, bad arguments."""

import pytest
import torch
from torch import nn

from rlcourse.nn import MLP, GridCNN, NatureCNN, ResNetTower

torch.set_num_threads(1)


def assert_every_parameter_gets_gradient(module, *inputs):
    """One backward pass of a random projection of the output reaches every parameter."""
    torch.manual_seed(0)
    out = module(*inputs)
    (out * torch.randn_like(out)).sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert param.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


def test_mlp_shapes_and_layer_order():
    mlp = MLP(5, hidden=(16, 8), out_features=3, activation="tanh", norm="layer", dropout=0.1)
    assert mlp(torch.zeros(7, 5)).shape == (7, 3)
    assert mlp(torch.zeros(2, 4, 5)).shape == (2, 4, 3)  # any leading dimensions
    kinds = [type(m).__name__ for m in mlp.layers]
    assert kinds == ["Linear", "LayerNorm", "Tanh", "Dropout"] * 2 + ["Linear"]
    assert mlp.out_features == 3


def test_mlp_without_output_layer_ends_in_the_last_activation():
    mlp = MLP(4, hidden=(6,))
    assert mlp.out_features == 6
    assert (mlp(torch.randn(50, 4)) >= 0).all()  # ends in ReLU
    identity = MLP(4, hidden=())
    x = torch.randn(3, 4)
    assert torch.equal(identity(x), x) and identity.out_features == 4


def test_mlp_batch_norm_works_on_extra_leading_dims():
    mlp = MLP(3, hidden=(4,), norm="batch")
    out = mlp(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 4)
    norm = mlp.layers[1].norm
    assert norm.num_batches_tracked == 1 and norm.running_mean.shape == (4,)


@pytest.mark.parametrize("norm", [None, "layer", "batch"])
def test_mlp_gradients_reach_every_parameter(norm):
    assert_every_parameter_gets_gradient(MLP(4, (8, 8), 2, norm=norm), torch.randn(6, 4))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "swish"}, "unknown activation 'swish'"),
        ({"norm": "group"}, "unknown norm 'group'"),
        ({"dropout": 1.0}, "dropout must lie in"),
        ({"hidden": (8, 0)}, "hidden_width must be a positive integer"),
    ],
)
def test_mlp_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(4, **{"hidden": (8,), **kwargs})


def test_nature_cnn_on_84x84_frames():
    cnn = NatureCNN(4, 84, 84)
    assert cnn.out_features == 64 * 7 * 7
    assert cnn(torch.zeros(2, 4, 84, 84)).shape == (2, 3136)
    assert [m.stride for m in cnn.body if isinstance(m, nn.Conv2d)] == [(4, 4), (2, 2), (1, 1)]


def test_nature_cnn_refuses_small_images():
    assert NatureCNN(1, 36, 36).out_features == 64
    with pytest.raises(ValueError, match=r"at least 36x36, got 35x40; use GridCNN"):
        NatureCNN(1, 35, 40)


def test_grid_cnn_keeps_height_and_width():
    cnn = GridCNN(5, 3, 4, channels=(8, 16), kernel_size=3, batch_norm=True)
    body = cnn.body[:-1]  # without the Flatten
    assert body(torch.zeros(2, 5, 3, 4)).shape == (2, 16, 3, 4)
    assert cnn.out_features == 16 * 3 * 4
    assert cnn(torch.zeros(2, 5, 3, 4)).shape == (2, 192)
    assert_every_parameter_gets_gradient(cnn, torch.randn(3, 5, 3, 4))


def test_grid_cnn_refuses_even_kernels():
    with pytest.raises(ValueError, match="kernel_size must be a positive odd number"):
        GridCNN(1, 5, 5, kernel_size=2)


def test_resnet_tower_shapes_blocks_and_skip():
    tower = ResNetTower(in_channels=3, filters=8, blocks=2)
    assert tower(torch.zeros(2, 3, 7, 7)).shape == (2, 8, 7, 7)
    assert len(tower.blocks) == 2
    convs = [m for m in tower.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 + 2 * 2 and all(c.bias is None for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in tower.modules()) == 5
    assert_every_parameter_gets_gradient(tower, torch.randn(2, 3, 5, 5))


def test_residual_block_with_zero_body_is_relu_of_input():
    tower = ResNetTower(in_channels=2, filters=2, blocks=1)
    block = tower.blocks[0]
    nn.init.zeros_(block.body[-1].weight)  # last BatchNorm's scale: the body outputs its bias 0
    block.eval()
    x = torch.randn(1, 2, 3, 3)
    assert torch.allclose(block(x), torch.relu(x))
