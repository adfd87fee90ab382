"""Storage administration commands: ``reap``, ``copy`` and ``storage upgrade``."""

from __future__ import annotations

import click

__all__ = ["copy_command", "reap_command", "storage_group"]


def _url(url: str | None) -> str:
    from hpopt.storage import default_storage_url

    return url or default_storage_url()


_storage = click.option(
    "--storage",
    "storage_url",
    metavar="URL",
    envvar="HPOPT_STORAGE",
    show_envvar=True,
    help="Database URL of the studies [default: sqlite:///hpopt.db].",
)


@click.command("reap")
@_storage
@click.option("--study", "study_name", required=True, help="Name of the study.")
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Heartbeat age after which a RUNNING trial is dead [default: the study's policy].",
)
def reap_command(storage_url: str | None, study_name: str, grace: float | None) -> None:
    """Mark RUNNING trials whose worker died (stale heartbeat) as FAIL, re-queuing them as
    the study's retry policy says."""
    from hpopt.storage.admin import reap

    try:
        numbers = reap(_url(storage_url), study_name, grace)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if numbers:
        click.echo(f"marked {len(numbers)} stale trial(s) FAIL: {', '.join(map(str, numbers))}")
    else:
        click.echo("no stale trials")


@click.command("copy")
@click.option("--from-storage", required=True, metavar="URL", help="Source storage URL.")
@click.option("--study", "study_name", required=True, help="Name of the study to copy.")
@click.option("--to-storage", required=True, metavar="URL", help="Destination storage URL.")
@click.option("--to-study", default=None, help="Name in the destination [default: the same].")
def copy_command(from_storage: str, study_name: str, to_storage: str, to_study: str | None) -> None:
    """Copy a study with all its trials to another storage (or under another name)."""
    from hpopt.study.transfer import copy_study

    copy_study(
        from_study_name=study_name,
        from_storage=from_storage,
        to_storage=to_storage,
        to_study_name=to_study,
    )
    click.echo(f"copied {study_name!r} to {to_study or study_name!r} in {to_storage}")


@click.group("storage")
def storage_group() -> None:
    """Manage a storage's database schema."""


@storage_group.command("upgrade")
@_storage
def upgrade_command(storage_url: str | None) -> None:
    """Upgrade the database schema to the one this version of hpopt uses."""
    from hpopt.storage import upgrade_storage

    before, after = upgrade_storage(_url(storage_url))
    if before == after:
        click.echo(f"schema already at {after}")
    else:
        click.echo(f"schema upgraded from {before or 'empty'} to {after}")
