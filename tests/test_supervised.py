"""The supervised fit loop: learning, early stopping, schedules, determinism, data forms."""

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from rlcourse.supervised import (
    ConstantLR,
    CosineLR,
    FitConfig,
    StepLR,
    evaluate_loss,
    fit,
    lr_factor,
)

torch.set_num_threads(1)


def blobs(n=200, seed=0):
    """Two separable Gaussian blobs in 2-D: class 0 around (-2, 0), class 1 around (2, 0)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0.0, 0.5, (n, 2)) + np.stack([4.0 * y - 2.0, np.zeros(n)], 1)
    return x.astype(np.float32), y


def small_net(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 2))


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_loss_decreases_on_a_separable_problem():
    x, y = blobs()
    model = small_net()
    before = evaluate_loss(model, (x, y), "cross_entropy", "accuracy")
    result = fit(
        model, (x, y), "cross_entropy", metric="accuracy", epochs=20, lr=0.01, patience=None
    )
    after = evaluate_loss(model, (x, y), "cross_entropy", "accuracy")
    assert after.loss < 0.1 * before.loss
    assert after.metric == 1.0
    assert result.train_loss[-1] < result.train_loss[0]
    assert result.val_metric[-1] == 1.0 and len(result.val_loss) == result.epochs == 20
    assert result.monitor == "val_loss" and not result.stopped_early


def test_early_stopping_restores_the_best_epoch():
    # y = w x fitted to y = 2x by full-batch gradient descent from w = 0 (x = +-1, lr 0.05):
    # w_k = 2 - 2 * 0.9^k = 0.2, 0.38, ..., 0.937 (k=6), 1.043 (k=7), 1.139 (k=8), ...
    # Validated against y = x, the loss (w - 1)^2 is least after epoch 7 (index 6).
    x = np.array([[1.0], [-1.0]], dtype=np.float32)
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    result = fit(
        model, (x, 2 * x), "mse", validation=(x, x), optimizer="sgd", momentum=0.0, lr=0.05,
        batch_size=2, epochs=50, patience=3, shuffle=False,
    )  # fmt: skip
    w = [2 - 2 * 0.9**k for k in range(1, 11)]
    assert result.val_loss == pytest.approx([(wk - 1) ** 2 for wk in w], rel=1e-4)
    assert result.best_epoch == 6 and result.stopped_early and result.epochs == 6 + 1 + 3
    assert model.weight.item() == pytest.approx(w[6], rel=1e-5)


def test_without_restore_best_the_last_weights_stay():
    x, y = blobs()
    validation = (blobs(seed=1)[0], 1 - blobs(seed=1)[1])
    model = small_net()
    result = fit(
        model, (x, y), "cross_entropy", validation=validation, epochs=6, lr=0.01,
        patience=None, restore_best=False,
    )  # fmt: skip
    final = evaluate_loss(model, validation, "cross_entropy").loss
    assert final == pytest.approx(result.val_loss[-1], rel=1e-5)


def test_without_validation_early_stopping_watches_the_training_loss():
    x, y = blobs(n=40)
    result = fit(small_net(), (x, y), "cross_entropy", epochs=3, validation_split=0.0)
    assert result.monitor == "train_loss" and result.val_loss == []
    assert result.best_loss == min(result.train_loss)


def test_same_seed_same_weights_and_the_global_generator_is_untouched():
    x, y = blobs(n=64)
    config = FitConfig(epochs=3, batch_size=8, lr=0.01)
    runs = []
    for seed in (3, 3, 4):
        model = small_net(dropout=0.3)
        state = torch.random.get_rng_state()
        fit(model, (x, y), "cross_entropy", config, seed=seed)
        assert torch.equal(torch.random.get_rng_state(), state)
        runs.append(weights(model))
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


class PairDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return torch.as_tensor(self.x[i]), int(self.y[i])


def test_numpy_tensors_and_datasets_give_the_same_fit():
    x, y = blobs(n=50)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    forms = [(x, y), (tx, ty), TensorDataset(tx, ty), PairDataset(x, y)]
    results = []
    for data in forms:
        model = small_net()
        fit(model, data, "cross_entropy", epochs=2, batch_size=16, seed=1)
        results.append(weights(model))
    for other in results[1:]:
        assert torch.allclose(results[0], other)


def test_a_last_batch_of_one_joins_the_one_before_so_batch_norm_trains():
    x, y = blobs(n=33)  # batches of 8: 8, 8, 8, 8 + 1
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    fit(model, (x, y), "cross_entropy", epochs=2, batch_size=8, validation_split=0.0)
    assert model[1].num_batches_tracked == 2 * 4


def test_float64_arrays_become_float32():
    x, y = blobs(n=30)
    model = nn.Linear(2, 1)
    # float64 inputs would meet a float32 layer, and torch refuses to mix the two
    result = fit(model, (x.astype(np.float64), y.astype(np.float64)), "mse", epochs=1)
    assert model.weight.dtype == torch.float32 and math.isfinite(result.train_loss[0])


class PolicyValueNet(nn.Module):
    """Two inputs (planes and a legal mask), two outputs (logits and value)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.policy, self.value = nn.Linear(8, 3), nn.Linear(8, 1)

    def forward(self, planes, legal):
        h = torch.relu(self.body(planes))
        return self.policy(h).masked_fill(~legal, -1e9), self.value(h).squeeze(-1)


def test_tuple_inputs_and_targets_with_a_custom_loss():
    rng = np.random.default_rng(0)
    planes = rng.normal(size=(64, 4)).astype(np.float32)
    legal = np.ones((64, 3), dtype=bool)
    policy = np.eye(3, dtype=np.float32)[(planes[:, 0] > 0).astype(int)]
    value = np.tanh(planes[:, 1]).astype(np.float32)

    def alphazero_loss(output, targets):
        logits, v = output
        pi, z = targets
        return -(pi * torch.log_softmax(logits, -1)).sum(-1).mean() + ((v - z) ** 2).mean()

    torch.manual_seed(0)
    model = PolicyValueNet()
    result = fit(
        model, ((planes, legal), (policy, value)), alphazero_loss, epochs=30, lr=0.01,
        patience=None,
    )  # fmt: skip
    assert result.train_loss[-1] < 0.5 * result.train_loss[0]


def test_one_sgd_step_by_hand_and_gradient_clipping():
    x = np.array([[1.0], [2.0]], dtype=np.float32)
    y = np.zeros(2, dtype=np.float32)
    for clip, expected in [(None, 0.5), (1.0, 0.9)]:
        model = nn.Linear(1, 1, bias=False)
        nn.init.ones_(model.weight)
        # loss = mean((w x)^2) = 2.5 w^2, gradient 5 at w = 1; lr 0.1 -> 1 - 0.5 = 0.5,
        # clipped to norm 1 -> 1 - 0.1 = 0.9
        fit(
            model, (x, y), "mse", optimizer="sgd", momentum=0.0, lr=0.1, epochs=1,
            batch_size=2, validation_split=0.0, max_grad_norm=clip,
        )  # fmt: skip
        assert model.weight.item() == pytest.approx(expected)


def test_lr_schedules_by_hand():
    cosine = CosineLR(final_factor=0.1)
    assert lr_factor(0, 11, 11, cosine) == pytest.approx(1.0)
    assert lr_factor(5, 11, 11, cosine) == pytest.approx(0.55)
    assert lr_factor(10, 11, 11, cosine) == pytest.approx(0.1)
    warm = CosineLR(warmup_steps=4)
    assert [lr_factor(s, 14, 14, warm) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(13, 14, 14, warm) == pytest.approx(0.0)
    assert lr_factor(4 + 9 // 2, 14, 14, warm) == pytest.approx(
        0.5 * (1 + math.cos(math.pi * 4 / 9))
    )
    step = StepLR(every_epochs=2, gamma=0.5)
    assert [lr_factor(s, 30, 3, step) for s in (5, 6, 11, 12)] == [1.0, 0.5, 0.5, 0.25]
    assert lr_factor(1, 10, 10, ConstantLR(warmup_steps=2)) == 1.0


def test_fit_records_the_scheduled_learning_rate():
    x, y = blobs(n=40)
    result = fit(
        small_net(), (x, y), "cross_entropy", epochs=4, batch_size=10, lr=0.1, patience=None,
        validation_split=0.0, lr_schedule={"kind": "step", "every_epochs": 1, "gamma": 0.5},
    )  # fmt: skip
    assert result.lr == pytest.approx([0.1, 0.05, 0.025, 0.0125])


def test_tensorboard_scalars_in_a_log_directory(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    x, y = blobs(n=40)
    fit(small_net(), (x, y), "cross_entropy", metric="accuracy", epochs=3, log_dir=tmp_path)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert tags == {
        "supervised/train_loss", "supervised/val_loss", "supervised/lr",
        "supervised/train_accuracy", "supervised/val_accuracy",
    }  # fmt: skip
    assert [e.step for e in events.Scalars("supervised/val_loss")] == [1, 2, 3]


def test_scalars_go_through_a_run_and_the_progress_bar_can_show(capsys):
    class Recorder:
        def __init__(self):
            self.logged = []

        def log(self, scalars, step):
            self.logged.append((step, dict(scalars)))

    run = Recorder()
    x, y = blobs(n=40)
    fit(small_net(), (x, y), "cross_entropy", epochs=2, run=run, tag="bc", progress=True)
    assert [step for step, _ in run.logged] == [1, 2]
    assert set(run.logged[0][1]) == {"bc/train_loss", "bc/val_loss", "bc/lr"}
    assert "2/2" in capsys.readouterr().err


def test_bad_input_is_refused_with_a_clear_message():
    x, y = blobs(n=10)
    model = small_net()
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'.*'cross_entropy', 'mse'"):
        fit(model, (x, y), "hinge")
    with pytest.raises(ValidationError, match="epoch"):
        fit(model, (x, y), "mse", epoch=3)
    with pytest.raises(ValidationError, match="validation_split"):
        fit(model, (x, y), "mse", validation_split=1.0)
    with pytest.raises(ValueError, match=r"share their first dimension, got sizes \[9, 10\]"):
        fit(model, (x[:9], y), "cross_entropy")
    with pytest.raises(ValueError, match="empty training or validation set"):
        fit(model, (x[:3], y[:3]), "cross_entropy", validation_split=0.1)
    with pytest.raises(ValueError, match="training data set is empty"):
        fit(model, (x[:0], y[:0]), "cross_entropy")
    with pytest.raises(TypeError, match="an \\(inputs, targets\\) pair or a torch Dataset"):
        fit(model, x, "cross_entropy")
