"""TensorBoard and MLflow callbacks, read back through each tool's own reader."""

from __future__ import annotations

from pathlib import Path

import pytest

import hpopt


def _objective(trial: hpopt.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    act = trial.suggest_categorical("act", ["relu", "tanh"])
    width = trial.suggest_int("width", 8, 64)
    for epoch in range(3):
        trial.report(lr * (epoch + 1), epoch)
    return lr * width + (act == "relu")


def test_tensorboard_hparams_are_readable(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    from hpopt.integrations.tensorboard import TensorBoardCallback

    study = hpopt.create_study(direction="maximize", sampler=hpopt.RandomSampler(seed=0))
    study.optimize(
        _objective, n_trials=4, callbacks=[TensorBoardCallback(tmp_path)], show_progress_bar=False
    )
    for trial in study.trials:
        run = tmp_path / f"trial-{trial.number}"
        acc = EventAccumulator(str(run))
        acc.Reload()
        curve = acc.Scalars("intermediate/value")
        assert [e.step for e in curve] == [0, 1, 2]
        assert curve[-1].value == pytest.approx(trial.intermediate_values[2], rel=1e-6)
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]
        ).session_start_info
        assert start.hparams["lr"].number_value == pytest.approx(trial.params["lr"])
        assert start.hparams["act"].string_value == trial.params["act"]
        assert start.hparams["width"].number_value == trial.params["width"]
        assert acc.Scalars("hparam/value")[0].value == pytest.approx(trial.value, rel=1e-6)


def test_mlflow_runs_in_a_local_file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlflow")
    # MLflow 3 keeps its file store behind an explicit opt-in.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    from hpopt.integrations.mlflow import MLflowCallback

    uri = (tmp_path / "mlruns").as_uri()
    study = hpopt.create_study(direction="maximize", sampler=hpopt.RandomSampler(seed=1))

    def objective(trial: hpopt.Trial) -> float:
        value = _objective(trial)
        if trial.number == 2:
            raise RuntimeError("broken trial")
        return value

    study.optimize(objective, n_trials=4, callbacks=[MLflowCallback(uri)], show_progress_bar=False)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(study.study_name)
    assert exp is not None
    runs = {
        int(r.data.tags["hpopt.trial_number"]): r for r in client.search_runs([exp.experiment_id])
    }
    assert sorted(runs) == [0, 1, 2, 3]
    for trial in study.trials:
        run = runs[trial.number]
        assert run.data.params["act"] == trial.params["act"]
        assert float(run.data.params["lr"]) == pytest.approx(trial.params["lr"])
        if trial.state is hpopt.TrialState.COMPLETE:
            assert run.info.status == "FINISHED"
            assert run.data.metrics["value"] == pytest.approx(trial.value)
        else:
            assert run.info.status == "FAILED"
            assert "broken trial" in run.data.tags["hpopt.error"]
        history = client.get_metric_history(run.info.run_id, "intermediate_value")
        assert sorted(m.step for m in history) == [0, 1, 2]
