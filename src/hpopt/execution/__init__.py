"""Executors: where trials run (this process, processes, Dask, Ray)."""

from __future__ import annotations

__all__: list[str] = []
