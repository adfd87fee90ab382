"""The real ``python -m hpopt.cli`` process: version, error exits, and the demo."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hpopt


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "HPOPT_STORAGE"}
    full_env.update({"COLUMNS": "120", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "hpopt.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_version(tmp_path: Path) -> None:
    proc = run_cli("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hpopt, version {hpopt.__version__}"


def test_an_unsupported_url_exits_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    proc = run_cli("studies", "--storage", "mongodb://x/y", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("Error: unsupported storage 'mongodb://x/y'")


def test_the_storage_url_comes_from_hpopt_storage(tmp_path: Path) -> None:
    proc = run_cli("trials", "--study", "s", cwd=tmp_path, env={"HPOPT_STORAGE": "redis://h"})
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: unsupported storage 'redis://h'")
    assert "Traceback" not in proc.stderr


def _demo_numbers(stdout: str) -> dict[str, float]:
    found = {}
    for key in ("validation accuracy", "test accuracy"):
        match = re.search(rf"{key}\s*│\s*([0-9.]+)", stdout)
        assert match, f"no {key!r} in:\n{stdout}"
        found[key] = float(match.group(1))
    return found


@pytest.mark.slow  # importing torch and scikit-learn in a fresh process: 8 s idle, 30 s busy
def test_a_short_demo_trains_a_real_network(tmp_path: Path) -> None:
    proc = run_cli("demo", "--n-trials", "3", "--epochs", "2", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # --no-progress
    assert "Best configuration" in proc.stdout
    for name in ("optimizer", "lr", "weight_decay", "batch_size", "hidden", "depth", "dropout"):
        assert re.search(rf"│ {name}\s+│", proc.stdout), name
    # ASHA is on: a trial may stop early, but all three finish and at least one completes.
    counts = {
        state: int(n) for n, state in re.findall(r"(\d+) (complete|pruned|failed)", proc.stdout)
    }
    assert counts.get("complete", 0) >= 1 and sum(counts.values()) == 3, counts
    assert "epochs trained" in proc.stdout
    if importlib.util.find_spec("hpopt.storage.sql") is None:  # the in-memory fallback
        assert "kept in memory" in proc.stdout
        assert not (tmp_path / "hpopt.db").exists()
    numbers = _demo_numbers(proc.stdout)
    # Chance is 0.1. With ASHA often only one of the three configurations completes its two
    # epochs (seed 0: 0.50 validation, 0.50 test), so three times chance is the bar.
    assert numbers["test accuracy"] > 0.3
    assert numbers["validation accuracy"] > 0.3


def test_the_cli_loads_torch_and_sklearn_only_for_the_demo(tmp_path: Path) -> None:
    code = (
        "import sys, hpopt.cli; "
        "print(sorted(m for m in ('torch', 'sklearn', 'pandas') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
