"""Log each trial of a study as an MLflow run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hpopt.trial.state import TrialState

if TYPE_CHECKING:
    from hpopt.study.study import Study
    from hpopt.trial.frozen import FrozenTrial

__all__ = ["MLflowCallback"]

_RUN_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.PRUNED: "KILLED",
    TrialState.FAIL: "FAILED",
}


class MLflowCallback:
    """An ``optimize`` callback that records every finished trial as an MLflow run.

    Each run holds the trial's parameters, its objective value(s) as metrics, its learning
    curve (``trial.report`` values, by step) under ``intermediate_<metric>``, and tags
    with the study name, trial number and state. Runs of a study share one experiment.

    Parameters
    ----------
    tracking_uri
        MLflow tracking URI (e.g. ``"file:///tmp/mlruns"``); ``None`` uses MLflow's default.
    experiment_name
        Defaults to the study name.
    metric_names
        Names of the objective values (default ``["value"]`` or ``values_0, values_1, ...``).

    Examples
    --------
    >>> from hpopt.integrations.mlflow import MLflowCallback  # doctest: +SKIP
    >>> study.optimize(objective, n_trials=20, callbacks=[MLflowCallback("file:./mlruns")])
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment_name: str | None = None,
        metric_names: Sequence[str] | None = None,
    ) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("MLflowCallback needs mlflow: pip install 'hpopt[mlflow]'") from e
        self._client = MlflowClient(tracking_uri=tracking_uri)
        self.experiment_name = experiment_name
        self.metric_names = list(metric_names) if metric_names is not None else None
        self._experiment_ids: dict[str, str] = {}

    def _experiment_id(self, name: str) -> str:
        if name not in self._experiment_ids:
            exp = self._client.get_experiment_by_name(name)
            self._experiment_ids[name] = (
                exp.experiment_id if exp is not None else self._client.create_experiment(name)
            )
        return self._experiment_ids[name]

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        from mlflow.entities import Metric, Param, RunTag

        exp_id = self._experiment_id(self.experiment_name or study.study_name)
        run = self._client.create_run(
            exp_id,
            run_name=f"trial-{trial.number}",
            tags={
                "hpopt.study": study.study_name,
                "hpopt.trial_number": str(trial.number),
                "hpopt.state": trial.state.name,
                "hpopt.directions": ",".join(d.name.lower() for d in study.directions),
            },
        )
        names = self.metric_names or (
            ["value"]
            if len(study.directions) == 1
            else [f"values_{i}" for i in range(len(study.directions))]
        )
        ts = (
            int(
                (trial.datetime_complete or trial.datetime_start).timestamp() * 1000  # type: ignore[union-attr]
            )
            if (trial.datetime_complete or trial.datetime_start)
            else 0
        )
        metrics = []
        if trial.values is not None:
            metrics += [Metric(n, float(v), ts, 0) for n, v in zip(names, trial.values)]
        metrics += [
            Metric(f"intermediate_{names[0]}", float(v), ts, int(step))
            for step, v in sorted(trial.intermediate_values.items())
        ]
        params = [Param(k, str(v)) for k, v in trial.params.items()]
        tags = [RunTag(f"user_attr.{k}", str(v)[:5000]) for k, v in trial.user_attrs.items()]
        if trial.error:
            tags.append(RunTag("hpopt.error", trial.error[:5000]))
        self._client.log_batch(run.info.run_id, metrics=metrics, params=params, tags=tags)
        self._client.set_terminated(run.info.run_id, status=_RUN_STATUS.get(trial.state, "FAILED"))

    def __getstate__(self) -> dict[str, Any]:  # the client holds no process-bound state
        return self.__dict__.copy()
