"""Write a study to TensorBoard in the HParams format (one run per trial)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpopt.space.distributions import Categorical

if TYPE_CHECKING:
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = ["TensorBoardCallback"]


class TensorBoardCallback:
    """An ``optimize`` callback that writes each finished trial for TensorBoard's HParams tab.

    Every trial becomes a run ``<log_dir>/trial-<number>`` with its hyperparameters, its
    objective value(s) and its learning curve (``trial.report`` values as scalars), so
    ``tensorboard --logdir <log_dir>`` shows the study in the HParams table, parallel
    coordinates and scatter views. Uses ``torch.utils.tensorboard`` (needs ``torch`` and
    ``tensorboard``).

    Parameters
    ----------
    log_dir
        Directory of the event files.
    metric_names
        Names of the objective values (default ``["value"]`` or ``values_0, ...``).
    """

    def __init__(self, log_dir: str | Path, *, metric_names: list[str] | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "TensorBoardCallback needs torch and tensorboard: pip install 'hpopt[tensorboard]'"
            ) from e
        self.log_dir = Path(log_dir)
        self.metric_names = metric_names

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        from torch.utils.tensorboard import SummaryWriter

        names = self.metric_names or (
            ["value"]
            if len(study.directions) == 1
            else [f"values_{i}" for i in range(len(study.directions))]
        )
        hparams: dict[str, Any] = {}
        for k, v in trial.params.items():
            dist = trial.distributions[k]
            # TensorBoard's HParams accept bool, number or str; None and mixed-type
            # categoricals are shown as text.
            if isinstance(dist, Categorical) and (
                v is None or not isinstance(v, (int, float, str))
            ):
                v = str(v)
            hparams[k] = v
        hparams["state"] = trial.state.name
        metrics = {}
        if trial.values is not None:
            metrics = {f"hparam/{n}": float(v) for n, v in zip(names, trial.values)}
        run_dir = self.log_dir / f"trial-{trial.number}"
        with SummaryWriter(log_dir=str(run_dir)) as writer:
            for step, value in sorted(trial.intermediate_values.items()):
                writer.add_scalar(f"intermediate/{names[0]}", value, global_step=step)
            writer.add_hparams(hparams, metrics, run_name=".")
