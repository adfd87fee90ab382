"""``hpopt worker``: join a study through its storage and run its trials."""

from __future__ import annotations

import click

__all__ = ["worker_command"]


@click.command("worker")
@click.option("--storage", required=True, help="Storage URL, e.g. postgresql+psycopg://u@host/db.")
@click.option("--study", "study_name", required=True, help="Name of an existing study.")
@click.option("--objective", required=True, help="The objective as module:function.")
@click.option("--n-trials", type=click.IntRange(min=0), default=None, help="Trials to run here.")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, help="Seconds to run.")
@click.option(
    "--heartbeat-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds between heartbeats of the running trial.",
)
@click.option(
    "--grace-period",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds without heartbeat after which a trial counts as dead (6 intervals).",
)
@click.option("--max-retries", type=click.IntRange(min=0), default=1, show_default=True)
def worker_command(
    storage: str,
    study_name: str,
    objective: str,
    n_trials: int | None,
    timeout: float | None,
    heartbeat_interval: float,
    grace_period: float | None,
    max_retries: int,
) -> None:
    """Run trials of study STUDY from STORAGE with OBJECTIVE (start as many as you like)."""
    from hpopt.execution.worker import run_worker

    done = run_worker(
        storage,
        study_name,
        objective,
        n_trials,
        timeout=timeout,
        heartbeat_interval=heartbeat_interval,
        grace_period=grace_period,
        max_retries=max_retries,
    )
    click.echo(f"hpopt worker: ran {done} trial(s) of {study_name!r}")


if __name__ == "__main__":
    worker_command()
