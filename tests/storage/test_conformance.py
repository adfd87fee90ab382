"""The storage contract, checked on every backend (memory, SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hpopt.storage import BaseStorage
from hpopt.testing.storage import STORAGE_CHECKS


@pytest.mark.parametrize("check", STORAGE_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_contract(storage: BaseStorage, check: Callable[[BaseStorage], None]) -> None:
    check(storage)
