"""A plain supervised fit loop: behaviour cloning, SL pre-training, value regression.

``fit(model, (inputs, targets), "cross_entropy", FitConfig(epochs=50))`` trains `model` in
mini-batches and returns a `FitResult`. Data comes as

- a pair ``(inputs, targets)`` of tensors or numpy arrays with the same first dimension [N];
  either side may also be a tuple or dict of such arrays (several inputs or several targets,
  e.g. AlphaZero's ``(policy, value)`` targets). numpy floats become float32 tensors.
- a map-style ``torch.utils.data.Dataset`` whose items are ``(input, target)`` pairs.

A tuple input is passed to the model as positional arguments, a dict as keyword arguments.
`loss` is ``"cross_entropy"`` (logits [B, C] against class indices [B] or probabilities
[B, C]), ``"mse"``, or any callable ``(model_output, targets) -> scalar tensor`` averaging
over the batch. The optional `metric` (``"accuracy"`` or a callable of the same form) is
averaged over samples and logged beside the loss.

A seeded split holds out ``validation_split`` of the data (or pass `validation` data);
early stopping watches the validation loss (the training loss when there is no validation
data) and, with ``restore_best``, the model ends with the weights of its best epoch. Scalars
``<tag>/train_loss``, ``<tag>/val_loss``, ``<tag>/lr`` and the metric go to TensorBoard through
a `rlcourse.runs.Run` or a log directory, one point per epoch. Shuffling, the split and
dropout all draw from `seed` (torch's global generator is restored afterwards), so the same
model weights and seed give the same fitted weights.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt
from torch import nn
from torch.utils.data import DataLoader, Dataset

from rlcourse.schedules import FrozenModel

__all__ = [
    "ConstantLR",
    "CosineLR",
    "FitConfig",
    "FitResult",
    "StepLR",
    "evaluate_loss",
    "fit",
    "lr_factor",
]

LossFn = Callable[[Any, Any], torch.Tensor]
MetricFn = Callable[[Any, Any], torch.Tensor | float]


# ----------------------------------------------------------------------------- settings


class ConstantLR(FrozenModel):
    """The base learning rate throughout (after the warm-up)."""

    kind: Literal["constant"] = "constant"
    warmup_steps: NonNegativeInt = Field(
        default=0, description="linear warm-up over N optimizer steps"
    )


class CosineLR(FrozenModel):
    """Cosine decay from the base rate to ``final_factor`` times it at the last step."""

    kind: Literal["cosine"] = "cosine"
    warmup_steps: NonNegativeInt = Field(
        default=0, description="linear warm-up over N optimizer steps"
    )
    final_factor: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class StepLR(FrozenModel):
    """The base rate times ``gamma`` every ``every_epochs`` epochs."""

    kind: Literal["step"] = "step"
    warmup_steps: NonNegativeInt = Field(
        default=0, description="linear warm-up over N optimizer steps"
    )
    every_epochs: PositiveInt = 10
    gamma: Annotated[float, Field(gt=0.0, le=1.0)] = 0.1


LRSchedule = Annotated[ConstantLR | CosineLR | StepLR, Field(discriminator="kind")]


class FitConfig(FrozenModel):
    """Settings of `fit`; usable as a config section (e.g. ``agent.fit``)."""

    epochs: PositiveInt = 50
    batch_size: PositiveInt = 64
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    weight_decay: NonNegativeFloat = 0.0
    momentum: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(default=0.9, description="sgd only")
    lr_schedule: LRSchedule = ConstantLR()
    validation_split: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    patience: PositiveInt | None = Field(
        default=10, description="epochs without improvement; null: off"
    )
    min_delta: NonNegativeFloat = Field(default=0.0, description="smallest decrease that counts")
    restore_best: bool = Field(default=True, description="end with the best epoch's weights")
    max_grad_norm: PositiveFloat | None = Field(
        default=None, description="clip the gradient's norm"
    )
    shuffle: bool = True


# ----------------------------------------------------------------------------- results


@dataclass
class FitResult:
    """Per-epoch history (index e is epoch e + 1) and the best epoch (0-based index)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_loss: float = math.inf
    monitor: Literal["val_loss", "train_loss"] = "val_loss"
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scores:
    """A sample-weighted mean loss, and metric when one was asked for."""

    loss: float
    metric: float | None = None


# ----------------------------------------------------------------------------- data


def _tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    if isinstance(tree, Mapping):
        return {k: _tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(_tree_map(fn, v) for v in tree)
    return fn(tree)


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, Mapping):
        return [leaf for v in tree.values() for leaf in _leaves(v)]
    if isinstance(tree, tuple | list):
        return [leaf for v in tree for leaf in _leaves(v)]
    return [tree]


def _to_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"cannot make a tensor of an array of Python objects (shape {array.shape})")
    tensor = torch.as_tensor(array)
    return tensor.to(torch.get_default_dtype()) if tensor.is_floating_point() else tensor


class _Source(Protocol):
    def __len__(self) -> int: ...

    def batches(self, chunks: Sequence[torch.Tensor]) -> Iterator[tuple[Any, Any]]:
        """One (inputs, targets) batch per tensor of sample indices in `chunks`."""
        ...


class _ArraySource:
    """Tensors (or trees of them) indexed directly: no per-sample Python work."""

    def __init__(self, inputs: Any, targets: Any):
        self.inputs, self.targets = _tree_map(_to_tensor, inputs), _tree_map(_to_tensor, targets)
        sizes = {
            int(leaf.shape[0]) if leaf.dim() else -1
            for leaf in _leaves((self.inputs, self.targets))
        }
        if len(sizes) != 1:
            raise ValueError(
                f"inputs and targets must share their first dimension, got sizes {sorted(sizes)}"
            )
        self.size = sizes.pop()
        if self.size < 0:
            raise ValueError("inputs and targets need a first (sample) dimension; got a scalar")

    def __len__(self) -> int:
        return self.size

    def batches(self, chunks: Sequence[torch.Tensor]) -> Iterator[tuple[Any, Any]]:
        for idx in chunks:

            def take(t: torch.Tensor, idx: torch.Tensor = idx) -> torch.Tensor:
                return t[idx]

            yield _tree_map(take, self.inputs), _tree_map(take, self.targets)


class _DatasetSource:
    """A map-style Dataset of (input, target) pairs, batched by a DataLoader."""

    def __init__(self, dataset: Dataset[Any]):
        if not hasattr(dataset, "__len__"):
            raise TypeError("the Dataset must have a length (a map-style dataset)")
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def batches(self, chunks: Sequence[torch.Tensor]) -> Iterator[tuple[Any, Any]]:
        loader = DataLoader(self.dataset, batch_sampler=[c.tolist() for c in chunks])
        for batch in loader:
            if not isinstance(batch, Sequence) or len(batch) != 2:
                raise ValueError("each Dataset item must be an (input, target) pair")
            yield batch[0], batch[1]


def _chunks(order: torch.Tensor, batch_size: int, training: bool = False) -> list[torch.Tensor]:
    """`order` cut into batches of `batch_size` indices. For training a last batch of one
    sample joins the batch before it: BatchNorm cannot normalise a single sample."""
    chunks = list(torch.split(order, batch_size))
    if training and len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2:] = [torch.cat(chunks[-2:])]
    return chunks


def _source(data: Any) -> _Source:
    if isinstance(data, Dataset):
        return _DatasetSource(data)
    if isinstance(data, tuple | list) and len(data) == 2:
        return _ArraySource(data[0], data[1])
    raise TypeError(
        f"data must be an (inputs, targets) pair or a torch Dataset, got {type(data).__name__}"
    )


# ----------------------------------------------------------------------------- losses, metrics


def _match_shape(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if target.shape == output.shape:
        return target.to(output.dtype)
    if target.numel() == output.numel():
        return target.reshape(output.shape).to(output.dtype)
    raise ValueError(f"mse: output shape {list(output.shape)} != target {list(target.shape)}")


def _mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output, _match_shape(output, target))


def _cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if target.is_floating_point():  # class probabilities [B, C]
        return F.cross_entropy(output, target.to(output.dtype))
    return F.cross_entropy(output, target.long())


def _accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    labels = target.argmax(dim=-1) if target.is_floating_point() else target
    return (output.argmax(dim=-1) == labels).float().mean()


LOSSES: dict[str, LossFn] = {"cross_entropy": _cross_entropy, "mse": _mse}
METRICS: dict[str, MetricFn] = {"accuracy": _accuracy}


def _named(what: str, value: Any, table: Mapping[str, Any]) -> Any:
    if callable(value):
        return value
    if value in table:
        return table[value]
    raise ValueError(f"unknown {what} {value!r}; give a callable or one of {sorted(table)}")


# ----------------------------------------------------------------------------- schedule


def lr_factor(
    step: int, total_steps: int, steps_per_epoch: int, schedule: ConstantLR | CosineLR | StepLR
) -> float:
    """The multiple of the base learning rate used for optimizer step `step` (0-based).

    Warm-up rises linearly: step s < W uses (s + 1) / W. Cosine then decays over the remaining
    steps to ``final_factor`` at the last step; step decay multiplies by ``gamma`` every
    ``every_epochs`` epochs.
    """
    warmup = schedule.warmup_steps
    if step < warmup:
        return (step + 1) / warmup
    if isinstance(schedule, CosineLR):
        span = max(total_steps - 1 - warmup, 1)
        progress = min((step - warmup) / span, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return schedule.final_factor + (1.0 - schedule.final_factor) * cosine
    if isinstance(schedule, StepLR):
        return float(schedule.gamma ** ((step // steps_per_epoch) // schedule.every_epochs))
    return 1.0


def _optimizer(model: nn.Module, config: FitConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


# ----------------------------------------------------------------------------- the loop


def _call(model: nn.Module, inputs: Any) -> Any:
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, tuple | list):
        return model(*inputs)
    return model(inputs)


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _move(tree: Any, device: torch.device) -> Any:
    return _tree_map(lambda t: t.to(device) if isinstance(t, torch.Tensor) else t, tree)


def _batch_size_of(targets: Any) -> int:
    return int(_leaves(targets)[0].shape[0])


def _score(
    model: nn.Module,
    source: _Source,
    indices: torch.Tensor,
    batch_size: int,
    loss_fn: LossFn,
    metric_fn: MetricFn | None,
) -> Scores:
    """Sample-weighted mean loss (and metric) over `indices`, in eval mode, no gradients."""
    device = _device(model)
    was_training = model.training
    model.eval()
    total_loss = total_metric = 0.0
    with torch.no_grad():
        for inputs, targets in source.batches(_chunks(indices, batch_size)):
            inputs, targets = _move(inputs, device), _move(targets, device)
            output = _call(model, inputs)
            n = _batch_size_of(targets)
            total_loss += float(loss_fn(output, targets)) * n
            if metric_fn is not None:
                total_metric += float(metric_fn(output, targets)) * n
    model.train(was_training)
    count = len(indices)
    return Scores(total_loss / count, total_metric / count if metric_fn is not None else None)


def evaluate_loss(
    model: nn.Module,
    data: Any,
    loss: str | LossFn,
    metric: str | MetricFn | None = None,
    batch_size: int = 256,
) -> Scores:
    """The mean loss (and metric) of `model` over all of `data`, in eval mode."""
    source = _source(data)
    if len(source) == 0:
        raise ValueError("the data set is empty")
    metric_fn = None if metric is None else _named("metric", metric, METRICS)
    return _score(
        model,
        source,
        torch.arange(len(source)),
        batch_size,
        _named("loss", loss, LOSSES),
        metric_fn,
    )


def _split(
    n: int, fraction: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(n, generator=generator)
    n_val = round(n * fraction)
    if fraction > 0 and (n_val == 0 or n_val == n):
        raise ValueError(
            f"validation_split={fraction} of {n} samples leaves an empty training or "
            "validation set; use more data or validation_split=0"
        )
    return order[n_val:], order[:n_val]


class _Logger:
    def __init__(self, run: Any, log_dir: str | Path | None):
        self.run, self.writer = run, None
        if run is None and log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(log_dir))

    def log(self, scalars: Mapping[str, float], step: int) -> None:
        if self.run is not None:
            self.run.log(scalars, step)
        elif self.writer is not None:
            for tag, value in scalars.items():
                self.writer.add_scalar(tag, value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _train_epoch(
    model: nn.Module,
    source: _Source,
    order: torch.Tensor,
    config: FitConfig,
    loss_fn: LossFn,
    metric_fn: MetricFn | None,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> tuple[Scores, float]:
    """One pass over `order`: the sample-weighted mean training loss (and metric), and the
    learning rate of the epoch's last update."""
    device = _device(model)
    model.train()
    total_loss = total_metric = 0.0
    lr = optimizer.param_groups[0]["lr"]
    for inputs, targets in source.batches(_chunks(order, config.batch_size, training=True)):
        inputs, targets = _move(inputs, device), _move(targets, device)
        output = _call(model, inputs)
        loss = loss_fn(output, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()
        n = _batch_size_of(targets)
        total_loss += float(loss.detach()) * n
        if metric_fn is not None:
            with torch.no_grad():
                total_metric += float(metric_fn(output, targets)) * n
    count = len(order)
    return Scores(total_loss / count, total_metric / count if metric_fn else None), float(lr)


def _record(
    result: FitResult, train: Scores, val: Scores | None, lr: float, tag: str, metric: str
) -> dict[str, float]:
    """Append one epoch to `result`; return its TensorBoard scalars."""
    result.train_loss.append(train.loss)
    result.lr.append(lr)
    scalars = {f"{tag}/train_loss": train.loss, f"{tag}/lr": lr}
    if train.metric is not None:
        result.train_metric.append(train.metric)
        scalars[f"{tag}/train_{metric}"] = train.metric
    if val is not None:
        result.val_loss.append(val.loss)
        scalars[f"{tag}/val_loss"] = val.loss
        if val.metric is not None:
            result.val_metric.append(val.metric)
            scalars[f"{tag}/val_{metric}"] = val.metric
    return scalars


def fit(
    model: nn.Module,
    data: Any,
    loss: str | LossFn,
    config: FitConfig | None = None,
    *,
    validation: Any = None,
    metric: str | MetricFn | None = None,
    seed: int = 0,
    run: Any = None,
    log_dir: str | Path | None = None,
    tag: str = "supervised",
    progress: bool | None = None,
    **settings: Any,
) -> FitResult:
    """Train `model` on `data` (see the module docstring) and return its history.

    `config` holds the settings; keyword `settings` override single fields of it (validated
    like a config, e.g. ``fit(model, data, "mse", epochs=5, lr=1e-2)``). `validation` replaces
    the random split. `run` (a `rlcourse.runs.Run`) or `log_dir` receives TensorBoard scalars
    at steps 1, 2, ... (epochs). `progress` shows a tqdm bar over epochs (default: when stderr
    is a terminal). The model is left in the train/eval mode it came in.
    """
    base = config or FitConfig()
    config = FitConfig.model_validate({**base.model_dump(), **settings}) if settings else base
    loss_fn = _named("loss", loss, LOSSES)
    metric_fn = None if metric is None else _named("metric", metric, METRICS)
    metric_name = metric if isinstance(metric, str) else "metric"
    source = _source(data)
    if len(source) == 0:
        raise ValueError("the training data set is empty")
    generator = torch.Generator().manual_seed(seed)
    val_source: _Source | None = None
    train_idx, val_idx = torch.arange(len(source)), torch.arange(0)
    if validation is not None:
        val_source = _source(validation)
        val_idx = torch.arange(len(val_source))
        if len(val_idx) == 0:
            raise ValueError("the validation data set is empty")
    elif config.validation_split > 0:
        val_source = source
        train_idx, val_idx = _split(len(source), config.validation_split, generator)

    steps_per_epoch = len(_chunks(train_idx, config.batch_size, training=True))
    total_steps = steps_per_epoch * config.epochs
    optimizer = _optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, steps_per_epoch, config.lr_schedule)
    )
    result = FitResult(monitor="val_loss" if val_source is not None else "train_loss")
    best_state: dict[str, torch.Tensor] | None = None
    logger = _Logger(run, log_dir)
    bar = _progress_bar(config.epochs, tag, progress)
    started, was_training = time.perf_counter(), model.training
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout and noisy layers draw from here
        try:
            for epoch in range(config.epochs):
                shuffled = torch.randperm(len(train_idx), generator=generator)
                order = train_idx[shuffled] if config.shuffle else train_idx
                train, lr = _train_epoch(
                    model, source, order, config, loss_fn, metric_fn, optimizer, scheduler
                )
                val = None
                if val_source is not None:
                    val = _score(model, val_source, val_idx, config.batch_size, loss_fn, metric_fn)
                scalars = _record(result, train, val, lr, tag, metric_name)
                logger.log(scalars, epoch + 1)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k.split("/")[-1]: f"{v:.4g}" for k, v in scalars.items()})
                watched = val.loss if val is not None else train.loss
                if not math.isfinite(watched):
                    raise FloatingPointError(
                        f"{result.monitor} became {watched} at epoch {epoch + 1}"
                    )
                if watched < result.best_loss - config.min_delta:
                    result.best_epoch, result.best_loss = epoch, watched
                    if config.restore_best:
                        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if config.patience is not None and epoch - result.best_epoch >= config.patience:
                    result.stopped_early = epoch + 1 < config.epochs
                    break
        finally:
            logger.close()
            if bar is not None:
                bar.close()
            model.train(was_training)
    if best_state is not None:
        model.load_state_dict(best_state)
    result.seconds = time.perf_counter() - started
    return result


def _progress_bar(epochs: int, tag: str, progress: bool | None) -> Any:
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=epochs, desc=tag, unit="epoch", dynamic_ncols=True, file=sys.stderr)
