"""PyTorch helpers: searchable optimizers and learning-rate schedules, and a loop reporter.

Needs the ``torch`` extra (``pip install hpopt[torch]``); torch is imported when a function
that builds torch objects is first called.

Examples
--------
>>> import torch, hpopt
>>> from hpopt.integrations.torch import suggest_optimizer
>>> model = torch.nn.Linear(4, 2)
>>> trial = hpopt.create_study().ask()
>>> optimizer, schedule = suggest_optimizer(trial, model.parameters(), epochs=10)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpopt.integrations.training import TrialReporter, report_epoch, restore_checkpoint
from hpopt.trial.trial import Trial

if TYPE_CHECKING:
    import torch

__all__ = [
    "LRMultiplier",
    "TrialReporter",
    "report_epoch",
    "restore_checkpoint",
    "suggest_lr_schedule",
    "suggest_optimizer",
]

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "step", "exponential", "cosine")


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            "hpopt.integrations.torch needs PyTorch: pip install 'hpopt[torch]'"
        ) from e
    return torch


def suggest_optimizer(
    trial: Trial,
    params: Iterable[Any],
    *,
    optimizers: Sequence[str] = ("adam", "sgd", "adamw"),
    lr: tuple[float, float] = (1e-5, 1e-1),
    weight_decay: tuple[float, float] | None = (1e-6, 1e-2),
    epochs: int | None = None,
    steps_per_epoch: int = 1,
    schedules: Sequence[str] = SCHEDULES,
    warmup: tuple[float, float] | None = (0.0, 0.2),
    prefix: str = "",
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """Suggest an optimizer and a learning-rate schedule for ``params``.

    Suggested parameters (names start with ``prefix``): ``optimizer`` (one of
    ``optimizers``: ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``), ``lr`` (log scale),
    ``weight_decay`` (log scale; 0 when ``weight_decay`` is ``None``), and per optimizer
    ``momentum`` (SGD, RMSprop) or ``beta1`` and ``beta2`` (Adam, AdamW). With ``epochs``
    the schedule is suggested by :func:`suggest_lr_schedule`; without, it is constant.

    Returns
    -------
    (optimizer, lr_scheduler)
        Call ``lr_scheduler.step()`` after every ``optimizer.step()``.
    """
    torch = _torch()
    unknown = [o for o in optimizers if o not in OPTIMIZERS]
    if unknown or not optimizers:
        raise ValueError(f"optimizers must be a non-empty subset of {OPTIMIZERS}, got {optimizers}")
    name = str(trial.suggest_categorical(f"{prefix}optimizer", list(optimizers)))
    kwargs: dict[str, Any] = {"lr": trial.suggest_float(f"{prefix}lr", *lr, log=True)}
    kwargs["weight_decay"] = (
        0.0
        if weight_decay is None
        else trial.suggest_float(f"{prefix}weight_decay", *weight_decay, log=True)
    )
    if name in ("adam", "adamw"):
        beta1 = trial.suggest_float(f"{prefix}beta1", 0.8, 0.99)
        beta2 = trial.suggest_float(f"{prefix}beta2", 0.9, 0.9999)
        kwargs["betas"] = (beta1, beta2)
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    else:
        kwargs["momentum"] = trial.suggest_float(f"{prefix}momentum", 0.0, 0.99)
        cls = torch.optim.SGD if name == "sgd" else torch.optim.RMSprop
    optimizer = cls(params, **kwargs)
    if epochs is None:
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, LRMultiplier("constant", 1))
    else:
        schedule = suggest_lr_schedule(
            trial,
            optimizer,
            epochs,
            steps_per_epoch,
            schedules=schedules,
            warmup=warmup,
            prefix=prefix,
        )
    return optimizer, schedule


def suggest_lr_schedule(
    trial: Trial,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    steps_per_epoch: int = 1,
    *,
    schedules: Sequence[str] = SCHEDULES,
    warmup: tuple[float, float] | None = (0.0, 0.2),
    prefix: str = "",
) -> torch.optim.lr_scheduler.LRScheduler:
    """Suggest a learning-rate schedule over ``epochs * steps_per_epoch`` optimizer steps.

    Suggested parameters (names start with ``prefix``): ``lr_schedule`` (one of
    ``schedules``), then for ``"step"`` ``lr_step_epochs`` and ``lr_step_gamma``, for
    ``"exponential"`` ``lr_gamma`` (decay per epoch), for ``"cosine"`` ``lr_min_ratio``
    (final over initial rate), and ``lr_warmup`` (fraction of the steps with a linear
    warm-up, in ``warmup``; no warm-up when ``warmup`` is ``None``).

    Returns
    -------
    torch.optim.lr_scheduler.LambdaLR
        Call ``step()`` after every optimizer step.
    """
    torch = _torch()
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if isinstance(steps_per_epoch, bool) or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be a positive integer, got {steps_per_epoch!r}")
    unknown = [s for s in schedules if s not in SCHEDULES]
    if unknown or not schedules:
        raise ValueError(f"schedules must be a non-empty subset of {SCHEDULES}, got {schedules}")
    kind = str(trial.suggest_categorical(f"{prefix}lr_schedule", list(schedules)))
    params: dict[str, float] = {}
    if kind == "step":
        params["step_epochs"] = trial.suggest_int(f"{prefix}lr_step_epochs", 1, max(1, epochs))
        params["gamma"] = trial.suggest_float(f"{prefix}lr_step_gamma", 0.1, 0.9)
    elif kind == "exponential":
        params["gamma"] = trial.suggest_float(f"{prefix}lr_gamma", 0.8, 0.999)
    elif kind == "cosine":
        params["min_ratio"] = trial.suggest_float(f"{prefix}lr_min_ratio", 1e-4, 0.1, log=True)
    warmup_fraction = 0.0 if warmup is None else trial.suggest_float(f"{prefix}lr_warmup", *warmup)
    multiplier = LRMultiplier(
        kind,
        steps_per_epoch,
        total_steps=epochs * steps_per_epoch,
        warmup_steps=round(warmup_fraction * epochs * steps_per_epoch),
        **params,
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LRMultiplier:
    """The factor on the initial learning rate after ``step`` optimizer steps (a picklable
    function for ``LambdaLR``): a linear warm-up over ``warmup_steps``, then the schedule.

    Examples
    --------
    >>> f = LRMultiplier("step", steps_per_epoch=10, step_epochs=2, gamma=0.5)
    >>> [f(0), f(19), f(20), f(40)]
    [1.0, 1.0, 0.5, 0.25]
    """

    kind: str
    steps_per_epoch: int
    total_steps: int = 1
    warmup_steps: int = 0
    step_epochs: float = 1
    gamma: float = 1.0
    min_ratio: float = 0.0

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        epoch = step / self.steps_per_epoch
        if self.kind == "constant":
            return 1.0
        if self.kind == "step":
            return float(self.gamma ** math.floor(epoch / self.step_epochs + 1e-9))
        if self.kind == "exponential":
            return float(self.gamma**epoch)
        if self.kind == "cosine":
            span = max(self.total_steps - self.warmup_steps, 1)
            progress = min((step - self.warmup_steps) / span, 1.0)
            return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        raise ValueError(f"unknown schedule {self.kind!r}; use one of {SCHEDULES}")
