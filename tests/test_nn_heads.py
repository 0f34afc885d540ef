"""Heads: Q, dueling, noisy, C51, categorical and Gaussian policies, values."""

import math

import pytest
import torch

from rlcourse.nn import (
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

torch.set_num_threads(1)


def assert_every_parameter_gets_gradient(module, output):
    (output * torch.randn_like(output)).sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert param.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


# ----------------------------------------------------------------------------- Q heads


@pytest.mark.parametrize("noisy", [False, True])
def test_q_head_shape_and_gradients(noisy):
    torch.manual_seed(0)
    head = QHead(6, 4, hidden=(8,), noisy=noisy)
    q = head(torch.randn(5, 6))
    assert q.shape == (5, 4)
    assert_every_parameter_gets_gradient(head, q)


def test_dueling_identity():
    torch.manual_seed(0)
    head = DuelingHead(6, 5, hidden=(8,))
    x = torch.randn(4, 6)
    q = head(x)
    advantage, value = head.advantage(x), head.value(x)
    assert q.shape == (4, 5)
    # Q - mean_a Q == A - mean_a A, and mean_a Q == V
    assert torch.allclose(q - q.mean(1, keepdim=True), advantage - advantage.mean(1, keepdim=True))
    assert torch.allclose(q.mean(1, keepdim=True), value, atol=1e-6)
    assert_every_parameter_gets_gradient(head, q)


def test_dueling_combine_by_hand():
    value = torch.tensor([[1.0]])
    advantage = torch.tensor([[1.0, 2.0, 6.0]])  # mean 3
    assert dueling_combine(value, advantage).tolist() == [[-1.0, 0.0, 4.0]]


# ----------------------------------------------------------------------------- noisy


def test_noisy_linear_initialisation_follows_fortunato():
    torch.manual_seed(0)
    layer = NoisyLinear(16, 300)
    bound = 1 / math.sqrt(16)
    assert layer.weight_mu.abs().max() <= bound and layer.bias_mu.abs().max() <= bound
    assert layer.weight_mu.abs().max() > 0.9 * bound  # uniform over the whole range
    assert torch.all(layer.weight_sigma == 0.5 / 4) and torch.all(layer.bias_sigma == 0.5 / 4)


@pytest.mark.parametrize("head", [QHead, DuelingHead, DistributionalHead])
def test_noisy_heads_pass_sigma_0_to_every_layer(head):
    model = head(16, 3, hidden=(4,), noisy=True, sigma_0=0.1)
    layers = [m for m in model.modules() if isinstance(m, NoisyLinear)]
    assert layers and not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    for layer in layers:
        assert torch.allclose(layer.bias_sigma, torch.tensor(0.1 / math.sqrt(layer.in_features)))


def test_noisy_linear_noise_in_train_mode_and_mean_in_eval_mode():
    torch.manual_seed(0)
    layer = NoisyLinear(4, 3)
    x = torch.randn(2, 4)
    mean_out = torch.nn.functional.linear(x, layer.weight_mu, layer.bias_mu)
    noisy = layer(x)
    assert not torch.allclose(noisy, mean_out)
    assert torch.equal(layer(x), noisy)  # the noise holds until reset_noise
    layer.reset_noise()
    assert not torch.allclose(layer(x), noisy)
    layer.eval()
    assert torch.equal(layer(x), mean_out)
    layer.reset_noise()
    assert torch.equal(layer(x), mean_out)


def test_noisy_linear_uses_factorised_noise():
    layer = NoisyLinear(3, 2)
    f_in, f_out = layer.eps_in.clone(), layer.eps_out.clone()
    with torch.no_grad():
        layer.weight_mu.zero_()
        layer.bias_mu.zero_()
        layer.weight_sigma.fill_(1.0)
        layer.bias_sigma.fill_(1.0)
    out = layer(torch.eye(3))  # row i = column i of the weight plus the bias
    expected = torch.outer(f_out, f_in).T + f_out
    assert torch.allclose(out, expected)


def test_reset_noise_reaches_every_noisy_layer_and_is_seeded():
    head = DuelingHead(4, 3, hidden=(5,), noisy=True)
    layers = [m for m in head.modules() if isinstance(m, NoisyLinear)]
    assert len(layers) == 4
    reset_noise(head, torch.Generator().manual_seed(1))
    first = [m.eps_in.clone() for m in layers]
    reset_noise(head, torch.Generator().manual_seed(1))
    assert all(torch.equal(a, m.eps_in) for a, m in zip(first, layers, strict=True))
    reset_noise(head, torch.Generator().manual_seed(2))
    assert not torch.equal(first[0], layers[0].eps_in)


# ----------------------------------------------------------------------------- C51


@pytest.mark.parametrize("dueling", [False, True])
def test_distributional_head_probabilities_sum_to_one(dueling):
    torch.manual_seed(0)
    head = DistributionalHead(6, 3, atoms=11, v_min=-5, v_max=5, hidden=(8,), dueling=dueling)
    log_probs = head(torch.randn(4, 6))
    assert log_probs.shape == (4, 3, 11)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(4, 3))
    assert head.support.tolist() == pytest.approx([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5])
    assert_every_parameter_gets_gradient(head, log_probs)


def test_distributional_q_values_by_hand():
    head = DistributionalHead(2, 2, atoms=3, v_min=-1.0, v_max=1.0)
    probs = torch.tensor([[[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]])
    q = head.q_values(probs.log())
    assert q[0].tolist() == pytest.approx([0.3, -1.0])


def test_distributional_head_refuses_bad_support():
    with pytest.raises(ValueError, match=r"v_min \(1.0\) must be below v_max"):
        DistributionalHead(2, 2, v_min=1.0, v_max=1.0)
    with pytest.raises(ValueError, match="atoms must be at least 2"):
        DistributionalHead(2, 2, atoms=1)


# ----------------------------------------------------------------------------- policies


def test_masked_action_has_zero_probability_and_is_never_sampled():
    torch.manual_seed(0)
    head = CategoricalPolicyHead(4, 5, hidden=(8,))
    x = torch.randn(3, 4)
    mask = torch.tensor([[1, 0, 1, 0, 1], [0, 0, 0, 1, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)
    with torch.no_grad():  # make the illegal actions the most attractive ones
        head.net.layers[-1].bias.copy_(torch.tensor([0.0, 50.0, 0.0, 50.0, 0.0]))
    dist = head(x, mask)
    assert torch.all(dist.probs[~mask] == 0)
    assert torch.allclose(dist.probs.sum(-1), torch.ones(3))
    assert dist.probs[1].tolist() == [0, 0, 0, 1, 0]
    samples = dist.sample((2000,))
    assert mask.gather(1, samples.T).all()
    assert torch.isfinite(dist.entropy()).all() and dist.entropy()[1] == 0


def test_categorical_head_gradients_and_no_mask():
    torch.manual_seed(0)
    head = CategoricalPolicyHead(4, 3)
    dist = head(torch.randn(6, 4))
    assert dist.logits.shape == (6, 3)
    loss = -(dist.log_prob(dist.sample()) + dist.entropy()).sum()
    assert_every_parameter_gets_gradient(head, loss)


def test_mask_with_no_legal_action_is_refused():
    with pytest.raises(ValueError, match=r"allows no action in rows \[1\]"):
        masked_logits(torch.zeros(2, 2), torch.tensor([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="action mask has shape"):
        masked_logits(torch.zeros(2, 2), torch.ones(2, 3, dtype=torch.bool))


def test_tanh_gaussian_log_prob_by_hand_in_one_dimension():
    mean, log_std = torch.tensor([[0.3]]), torch.tensor([[math.log(0.5)]])
    dist = DiagGaussian(mean, log_std, squash=True)
    u = 0.8
    action = torch.tensor([[math.tanh(u)]])
    normal = -0.5 * ((u - 0.3) / 0.5) ** 2 - math.log(0.5) - 0.5 * math.log(2 * math.pi)
    expected = normal - math.log(1 - math.tanh(u) ** 2)
    assert dist.log_prob(action).item() == pytest.approx(expected, rel=1e-5)


def test_tanh_gaussian_sample_log_prob_matches_log_prob_of_the_action():
    torch.manual_seed(0)
    dist = DiagGaussian(torch.randn(5, 2), torch.randn(5, 2) * 0.3, squash=True)
    action, log_prob = dist.rsample_with_log_prob(torch.Generator().manual_seed(0))
    assert action.abs().max() < 1
    assert torch.allclose(log_prob, dist.log_prob(action), atol=1e-3)


@pytest.mark.parametrize("squash", [False, True])
def test_sample_is_the_same_draw_as_rsample_without_gradient(squash):
    mean = torch.randn(4, 3, requires_grad=True)
    dist = DiagGaussian(mean, torch.full((4, 3), -0.7), squash=squash)
    sampled = dist.sample(torch.Generator().manual_seed(5))
    drawn, _ = dist.rsample_with_log_prob(torch.Generator().manual_seed(5))
    assert torch.equal(sampled, drawn) and not sampled.requires_grad and drawn.requires_grad


def test_unsquashed_gaussian_matches_torch_normal():
    mean, log_std = torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, -1.0]])
    dist = DiagGaussian(mean, log_std)
    a = torch.tensor([[0.5, 0.2]])
    normal = torch.distributions.Normal(mean, log_std.exp())
    assert dist.log_prob(a).item() == pytest.approx(normal.log_prob(a).sum().item())
    assert dist.entropy().item() == pytest.approx(normal.entropy().sum().item())
    assert torch.equal(dist.mode(), mean)
    with pytest.raises(ValueError, match="no closed-form entropy"):
        DiagGaussian(mean, log_std, squash=True).entropy()


@pytest.mark.parametrize("state_dependent", [False, True])
def test_gaussian_head_shapes_clamp_and_gradients(state_dependent):
    torch.manual_seed(0)
    head = GaussianPolicyHead(
        4, 2, hidden=(8,), state_dependent_std=state_dependent, log_std_init=-0.5,
        log_std_bounds=(-1.0, 0.5), squash=True,
    )  # fmt: skip
    dist = head(torch.randn(3, 4) * 100)
    assert dist.mean.shape == dist.log_std.shape == (3, 2)
    assert dist.log_std.min() >= -1.0 and dist.log_std.max() <= 0.5
    if not state_dependent:
        assert torch.all(dist.log_std == -0.5)
    action, log_prob = dist.rsample_with_log_prob()
    assert action.shape == (3, 2) and log_prob.shape == (3,)
    head.zero_grad()
    dist = head(torch.randn(3, 4))
    assert_every_parameter_gets_gradient(head, dist.rsample_with_log_prob()[1] + dist.mean.sum(-1))


def test_value_head_shape_and_gradients():
    head = ValueHead(4, hidden=(8,))
    v = head(torch.randn(5, 4))
    assert v.shape == (5,)
    assert_every_parameter_gets_gradient(head, v)
