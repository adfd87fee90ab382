"""The ``hpopt`` command line (``hpopt --help``; also ``python -m hpopt.cli``)."""

from __future__ import annotations

from hpopt.cli._app import DEFAULT_STORAGE_URL, CLIContext, cli, default_storage_url, main

__all__ = ["CLIContext", "DEFAULT_STORAGE_URL", "cli", "default_storage_url", "main"]
