"""Report a Keras 3 training run to its trial and stop it when the scheduler says so.

Keras 3 runs on any backend; hpopt's tests use the torch backend (``KERAS_BACKEND=torch``,
set before Keras is first imported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    import keras
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("hpopt.integrations.keras needs Keras 3: pip install 'hpopt[keras]'") from e

from hpopt.exceptions import TrialPruned

if TYPE_CHECKING:
    from hpopt.trial.trial import Trial

__all__ = ["PruningCallback"]


class PruningCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Report ``monitor`` at the end of each epoch; raise ``TrialPruned`` when told to stop.

    Parameters
    ----------
    trial
        The running trial.
    monitor
        A key of the epoch logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.

    Examples
    --------
    >>> callbacks = [PruningCallback(trial, "val_loss")]  # doctest: +SKIP
    >>> model.fit(x, y, validation_split=0.2, callbacks=callbacks)  # doctest: +SKIP
    """

    def __init__(self, trial: Trial, monitor: str = "val_loss") -> None:
        super().__init__()
        self.trial = trial
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(f"metric {self.monitor!r} is not in the epoch logs: {sorted(logs)}")
        self.trial.report(float(logs[self.monitor]), int(epoch))
        if self.trial.should_prune():
            self.model.stop_training = True
            raise TrialPruned(f"stopped by the scheduler after epoch {epoch}")
