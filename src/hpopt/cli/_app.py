"""The ``hpopt`` command line: ``demo`` and the commands that read a study's storage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from hpopt._version import __version__
from hpopt.demo import DEFAULT_EPOCHS, DEFAULT_N_TRIALS, DEFAULT_TIMEOUT
from hpopt.exceptions import HPOptError
from hpopt.storage import DEFAULT_STORAGE_URL, default_storage_url
from hpopt.storage.base import BaseStorage
from hpopt.study.export import EXPORT_FORMATS
from hpopt.trial.state import TrialState

__all__ = ["CLIContext", "DEFAULT_STORAGE_URL", "cli", "default_storage_url", "main"]

_STORAGE_ENV = "HPOPT_STORAGE"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CLIContext:
    """State shared by the commands, passed as click's ``obj``.

    A program embedding the CLI (or a test) may set ``storage`` to use that storage object
    instead of opening the ``--storage`` URL.
    """

    storage: BaseStorage | None = None

    def open_storage(self, url: str | None) -> BaseStorage:
        """The injected storage, or the one at ``url`` (default: :func:`default_storage_url`).

        A storage opened here is closed when the command ends.
        """
        if self.storage is not None:
            return self.storage
        from hpopt.storage import get_storage

        url = url or default_storage_url()
        try:
            store = get_storage(url)
        except (ValueError, TypeError) as e:
            raise click.ClickException(str(e)) from None
        except ImportError as e:
            raise click.ClickException(f"cannot open storage {url!r}: {e}") from None
        click.get_current_context().call_on_close(store.close)
        return store


class _Group(click.Group):
    """Turns hpopt's own errors (unknown study, storage failure) into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HPOptError as e:
            raise click.ClickException(str(e)) from None


def _state(ctx: click.Context) -> CLIContext:
    obj = ctx.ensure_object(CLIContext)
    if not isinstance(obj, CLIContext):
        raise TypeError(f"the CLI's context object must be a CLIContext, not {type(obj)}")
    return obj


def _storage_option(fn: F) -> F:
    return click.option(
        "--storage",
        "storage_url",
        metavar="URL",
        envvar=_STORAGE_ENV,
        show_envvar=True,
        help=f"Database URL of the studies [default: {DEFAULT_STORAGE_URL}].",
    )(fn)


def _study_option(fn: F) -> F:
    return click.option("--study", "study_name", required=True, help="Name of the study.")(fn)


def _states_option(fn: F) -> F:
    return click.option(
        "--state",
        "states",
        multiple=True,
        type=click.Choice([s.name.lower() for s in TrialState], case_sensitive=False),
        help="Only trials in this state (repeat for several).",
    )(fn)


def _parse_states(states: Sequence[str]) -> set[TrialState] | None:
    return {TrialState[s.upper()] for s in states} if states else None


def _console() -> Console:
    return Console()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="hpopt")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """hpopt: hyperparameter optimization for neural networks and other models."""
    _state(ctx)


@cli.command()
@click.option("--n-trials", type=click.IntRange(min=1), default=DEFAULT_N_TRIALS, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=DEFAULT_EPOCHS, show_default=True)
@_storage_option
@click.option("--study-name", help="Continue this study, or create it [default: time-stamped].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds search and training.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Start no new trial after this many seconds.",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--no-pruning", is_flag=True, help="Train every trial for all epochs (no ASHA).")
@click.pass_context
def demo(
    ctx: click.Context,
    n_trials: int,
    epochs: int,
    storage_url: str | None,
    study_name: str | None,
    seed: int,
    timeout: float,
    no_progress: bool,
    no_pruning: bool,
) -> None:
    """Tune a small PyTorch MLP on scikit-learn's digits (no download, CPU, about a minute)."""
    from hpopt.cli._render import demo_report
    from hpopt.demo import run_demo

    console = _console()
    state = _state(ctx)
    url: str | None = None
    if state.storage is not None:
        store, label = state.storage, f"{type(state.storage).__name__} (given by the caller)"
    else:
        url = label = storage_url or default_storage_url()
        store = state.open_storage(url)
    if study_name is not None:
        _check_demo_study(store, study_name)
    try:
        result = run_demo(
            n_trials=n_trials,
            epochs=epochs,
            storage=store,
            study_name=study_name,
            seed=seed,
            timeout=timeout,
            show_progress_bar=False if no_progress else None,
            pruning=not no_pruning,
        )
    except ImportError as e:
        raise click.ClickException(str(e)) from None
    console.print(demo_report(result, label))
    if url is not None:
        console.print(
            f"Inspect it with: hpopt trials --study {result.study.study_name} --storage {url}"
        )


def _check_demo_study(store: BaseStorage, study_name: str) -> None:
    """Refuse to continue a study that maximizes anything but the demo's one accuracy."""
    from hpopt.exceptions import StudyNotFoundError
    from hpopt.study.direction import StudyDirection

    try:
        directions = store.get_study_directions(store.get_study_id_from_name(study_name))
    except StudyNotFoundError:
        return
    if directions != (StudyDirection.MAXIMIZE,):
        raise click.ClickException(
            f"study {study_name!r} exists and is not a demo study (it has directions "
            f"{[d.name.lower() for d in directions]}); choose another --study-name"
        )


@cli.command()
@_storage_option
@click.pass_context
def studies(ctx: click.Context, storage_url: str | None) -> None:
    """List the studies in a storage."""
    from hpopt.cli._render import studies_table

    summaries = _state(ctx).open_storage(storage_url).get_all_studies()
    console = _console()
    if not summaries:
        console.print("no studies")
        return
    console.print(studies_table(summaries))


def _load(ctx: click.Context, study_name: str, storage_url: str | None) -> Any:
    from hpopt.study.study import load_study

    return load_study(study_name=study_name, storage=_state(ctx).open_storage(storage_url))


@cli.command()
@_study_option
@_storage_option
@_states_option
@click.option("--limit", type=click.IntRange(min=1), help="Show only the last N trials.")
@click.pass_context
def trials(
    ctx: click.Context,
    study_name: str,
    storage_url: str | None,
    states: tuple[str, ...],
    limit: int | None,
) -> None:
    """List the trials of a study."""
    from hpopt.cli._render import trials_table

    study = _load(ctx, study_name, storage_url)
    rows = study.get_trials(_parse_states(states))
    shown = rows[-limit:] if limit is not None else rows
    title = f"Trials of {study_name} ({len(shown)} of {len(rows)})"
    _console().print(trials_table(shown, title))


@cli.command()
@_study_option
@_storage_option
@click.pass_context
def best(ctx: click.Context, study_name: str, storage_url: str | None) -> None:
    """Show the best trial of a study (the Pareto front for several objectives)."""
    from hpopt.cli._render import best_report

    study = _load(ctx, study_name, storage_url)
    try:
        report = best_report(study)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    _console().print(report)


@cli.command()
@_study_option
@_storage_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS, case_sensitive=False),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of standard output.",
)
@_states_option
@click.pass_context
def export(
    ctx: click.Context,
    study_name: str,
    storage_url: str | None,
    fmt: str,
    output: Path | None,
    states: tuple[str, ...],
) -> None:
    """Export the trials of a study as CSV (one row per trial) or JSON (nested)."""
    from hpopt.study.export import export_trials

    text = export_trials(_load(ctx, study_name, storage_url), fmt.lower(), _parse_states(states))
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8", newline="")
    click.echo(f"wrote {output}", err=True)


@cli.command()
@_study_option
@_storage_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx: click.Context, study_name: str, storage_url: str | None, yes: bool) -> None:
    """Delete a study and all its trials."""
    store = _state(ctx).open_storage(storage_url)
    study_id = store.get_study_id_from_name(study_name)
    if not yes:
        n = store.get_n_trials(study_id)
        click.confirm(f"Delete study {study_name!r} and its {n} trials?", abort=True)
    store.delete_study(study_id)
    click.echo(f"deleted study {study_name!r}")


def _add_commands() -> None:
    from hpopt.cli.admin import copy_command, reap_command, storage_group
    from hpopt.cli.worker import worker_command

    for command in (worker_command, reap_command, copy_command, storage_group):
        cli.add_command(command)


_add_commands()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``hpopt`` command line (``argv`` defaults to ``sys.argv[1:]``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="hpopt", obj=CLIContext())
