"""Shared fixtures. ``storage`` runs a test on every storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hpopt.storage import BaseStorage, InMemoryStorage

#: Every storage backend; each study-level test that takes ``storage`` runs on all of them.
STORAGE_KINDS = ["memory"]


def make_storage(kind: str, tmp_path: Path) -> BaseStorage:
    """A fresh, empty storage of ``kind``."""
    if kind == "memory":
        return InMemoryStorage()
    raise ValueError(f"unknown storage kind {kind!r}")


@pytest.fixture(params=STORAGE_KINDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStorage]:
    store = make_storage(request.param, tmp_path)
    yield store
    store.close()
