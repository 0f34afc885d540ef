"""LSTM/GRU encoders with episode-start resets, and masked entity self-attention."""

import pytest
import torch

from rlcourse.nn import EntityAttentionEncoder, RecurrentEncoder

torch.set_num_threads(1)


def assert_every_parameter_gets_gradient(module, output):
    (output * torch.randn_like(output)).sum().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None, f"{name} got no gradient"
        assert param.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


# ----------------------------------------------------------------------------- recurrent


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_shapes_and_hidden_state(cell):
    torch.manual_seed(0)
    rnn = RecurrentEncoder(3, hidden_size=5, cell=cell, num_layers=2)
    out, hidden = rnn(torch.randn(4, 6, 3))
    assert out.shape == (4, 6, 5)
    h = hidden[0] if cell == "lstm" else hidden
    assert h.shape == (2, 4, 5)
    # Feeding the sequence in two halves, carrying the state, gives the same outputs.
    x = torch.randn(4, 6, 3)
    whole, _ = rnn(x)
    first, state = rnn(x[:, :2])
    second, _ = rnn(x[:, 2:], state)
    assert torch.allclose(torch.cat([first, second], 1), whole, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_reset_at_episode_start_equals_a_fresh_sequence(cell):
    torch.manual_seed(0)
    rnn = RecurrentEncoder(3, hidden_size=4, cell=cell)
    x = torch.randn(3, 7, 3)
    starts = torch.zeros(3, 7, dtype=torch.bool)
    starts[0, 3] = True  # row 0: a new episode begins at step 3
    starts[2, 5] = True  # row 2: at step 5
    starts[:, 0] = True  # every row starts at step 0 (ignores the given state)
    carried = rnn.initial_state(3)
    carried = tuple(t + 1.0 for t in carried) if cell == "lstm" else carried + 1.0
    out, _ = rnn(x, carried, starts)

    fresh_0, _ = rnn(x[0:1, 3:])
    assert torch.allclose(out[0:1, 3:], fresh_0, atol=1e-6)
    fresh_2, _ = rnn(x[2:3, 5:])
    assert torch.allclose(out[2:3, 5:], fresh_2, atol=1e-6)
    whole_1, _ = rnn(x[1:2])  # row 1 never resets after step 0
    assert torch.allclose(out[1:2], whole_1, atol=1e-6)
    # and the steps before a reset are untouched by it
    assert torch.allclose(out[0:1, :3], rnn(x[0:1, :3])[0], atol=1e-6)


def test_without_starts_the_given_state_is_used():
    torch.manual_seed(0)
    rnn = RecurrentEncoder(2, hidden_size=3, cell="gru")
    x = torch.randn(1, 4, 2)
    zero_state, _ = rnn(x)
    other, _ = rnn(x, torch.ones(1, 1, 3))
    assert not torch.allclose(zero_state, other)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_gradients_reach_every_parameter(cell):
    torch.manual_seed(0)
    rnn = RecurrentEncoder(3, hidden_size=4, cell=cell)
    starts = torch.zeros(2, 5, dtype=torch.bool)
    starts[1, 2] = True
    out, _ = rnn(torch.randn(2, 5, 3), starts=starts)
    assert_every_parameter_gets_gradient(rnn, out)


def test_recurrent_refuses_bad_shapes():
    rnn = RecurrentEncoder(3, hidden_size=4)
    with pytest.raises(ValueError, match=r"batch-first sequence \[B, T, F\]"):
        rnn(torch.zeros(5, 3))
    with pytest.raises(ValueError, match=r"starts must have shape \[B, T\] = \[2, 5\]"):
        rnn(torch.zeros(2, 5, 3), starts=torch.zeros(5, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru'"):
        RecurrentEncoder(3, cell="rnn")


# ----------------------------------------------------------------------------- attention


@pytest.mark.parametrize("pooling", ["mean", "max", "first"])
def test_attention_shapes(pooling):
    torch.manual_seed(0)
    encoder = EntityAttentionEncoder(5, embed_dim=8, num_heads=2, num_layers=2, pooling=pooling)
    pooled, entities = encoder(torch.randn(3, 4, 5), torch.ones(3, 4, dtype=torch.bool))
    assert pooled.shape == (3, 8) and entities.shape == (3, 4, 8)


@pytest.mark.parametrize("grad", [True, False])  # without grad, eval mode takes torch's fast path
@pytest.mark.parametrize("pooling", ["mean", "max", "first"])
def test_a_masked_entity_cannot_change_the_output(pooling, grad):
    torch.manual_seed(0)
    encoder = EntityAttentionEncoder(5, embed_dim=8, num_heads=2, num_layers=2, pooling=pooling)
    encoder.eval()
    torch.set_grad_enabled(grad)
    try:
        check_masked_entities_are_ignored(encoder, pooling)
    finally:
        torch.set_grad_enabled(True)


def check_masked_entities_are_ignored(encoder, pooling):
    x = torch.randn(2, 4, 5)
    mask = torch.tensor([[True, True, False, True], [True, False, False, True]])
    pooled, entities = encoder(x, mask)
    changed = x.clone()
    changed[0, 2] = 1e3
    changed[1, 1] = float("nan")
    changed[1, 2] = -7.0
    pooled_2, entities_2 = encoder(changed, mask)
    assert torch.equal(pooled, pooled_2)
    assert torch.equal(entities, entities_2)
    assert torch.all(entities[~mask] == 0)
    # and removing the absent entities altogether gives the same present outputs
    alone, alone_entities = encoder(x[0:1, [0, 1, 3]], None)
    assert torch.allclose(entities[0, [0, 1, 3]], alone_entities[0], atol=1e-5)
    if pooling != "first":
        assert torch.allclose(pooled[0], alone[0], atol=1e-5)


def test_a_present_entity_does_change_the_output():
    torch.manual_seed(0)
    encoder = EntityAttentionEncoder(3, embed_dim=8, num_heads=2)
    x = torch.randn(1, 3, 3)
    changed = x.clone()
    changed[0, 2] += 1.0
    before, after = encoder(x).entities, encoder(changed).entities
    assert not torch.allclose(before[0, 0], after[0, 0])  # entity 0 attends to entity 2


@pytest.mark.parametrize("pooling", ["mean", "max", "first"])
def test_all_absent_row_gives_zeros_without_nans(pooling):
    torch.manual_seed(0)
    encoder = EntityAttentionEncoder(3, embed_dim=8, num_heads=2, pooling=pooling)
    mask = torch.tensor([[False, False, False], [True, False, True]])
    x = torch.randn(2, 3, 3, requires_grad=True)
    pooled, entities = encoder(x, mask)
    assert torch.all(pooled[0] == 0) and torch.all(entities[0] == 0)
    assert torch.isfinite(pooled).all() and torch.isfinite(entities).all()
    (pooled.sum() + entities.sum()).backward()
    assert torch.isfinite(x.grad).all()


def test_attention_gradients_reach_every_parameter():
    torch.manual_seed(0)
    encoder = EntityAttentionEncoder(4, embed_dim=8, num_heads=2, num_layers=1)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    pooled, entities = encoder(torch.randn(2, 3, 4), mask)
    assert_every_parameter_gets_gradient(encoder, torch.cat([pooled, entities.flatten(1)], 1))


def test_attention_refuses_bad_shapes():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        EntityAttentionEncoder(3, embed_dim=10, num_heads=4)
    encoder = EntityAttentionEncoder(3, embed_dim=8, num_heads=2)
    with pytest.raises(ValueError, match=r"expected entities \[B, N, 3\]"):
        encoder(torch.zeros(2, 4, 5))
    with pytest.raises(ValueError, match="mask must have shape"):
        encoder(torch.zeros(2, 4, 3), torch.ones(2, 3, dtype=torch.bool))
