"""Report a Lightning training run to its trial and stop it when the scheduler says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # pragma: no cover - the standalone package name
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[assignment]
    except ImportError as e:
        raise ImportError(
            "hpopt.integrations.lightning needs Lightning: pip install 'hpopt[lightning]'"
        ) from e

from hpopt.exceptions import TrialPruned

if TYPE_CHECKING:
    from hpopt.trial.trial import Trial

__all__ = ["PruningCallback"]


class PruningCallback(Callback):  # type: ignore[misc]
    """Report ``monitor`` after each validation epoch; raise ``TrialPruned`` when told to stop.

    Parameters
    ----------
    trial
        The running trial.
    monitor
        A key of ``trainer.callback_metrics`` (what ``self.log`` logged), e.g. ``"val_acc"``.

    Examples
    --------
    >>> trainer = lightning.Trainer(callbacks=[PruningCallback(trial, "val_acc")])  # doctest: +SKIP
    """

    def __init__(self, trial: Trial, monitor: str) -> None:
        super().__init__()
        self.trial = trial
        self.monitor = monitor

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            raise KeyError(
                f"metric {self.monitor!r} was not logged; logged metrics: "
                f"{sorted(trainer.callback_metrics)}"
            )
        epoch = int(trainer.current_epoch)
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            raise TrialPruned(f"stopped by the scheduler after epoch {epoch}")
