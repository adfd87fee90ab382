"""Results files: one JSON object per line, appended as each run finishes.

A killed benchmark loses at most the runs in flight; rerunning the same command skips the
runs already recorded, and several files can be merged by passing them all to ``table``.
When a key appears more than once, the last line wins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["RunKey", "append_record", "load_records", "run_key"]

RunKey = tuple[str, str, str, int, int, int, int]


def run_key(record: Mapping[str, Any]) -> RunKey:
    """Identity of a record: (kind, optimizer, problem, seed, budget, batch or 0,
    asynchronous workers or 0)."""
    return (
        str(record.get("kind", "quality")),
        str(record["optimizer"]),
        str(record.get("problem", "")),
        int(record.get("seed", 0)),
        int(record.get("budget", 0)),
        int(record.get("batch") or 0),
        int(record.get("workers") or 0),
    )


def append_record(path: str | Path, record: Mapping[str, Any]) -> None:
    """Append one record as a JSON line and make it durable before returning."""
    line = json.dumps(record, separators=(",", ":"), allow_nan=False)
    with open(path, "a+b") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # a torn line from a killed run: end it first
                f.write(b"\n")
        f.write(line.encode("utf-8") + b"\n")
        f.flush()
        os.fsync(f.fileno())


def load_records(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Records from every file (missing files are empty), the last line per key winning.

    A truncated last line (a run killed mid-write) is skipped.
    """
    latest: dict[RunKey, dict[str, Any]] = {}
    for path in paths:
        if not Path(path).exists():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                latest[run_key(record)] = record
    return list(latest.values())
