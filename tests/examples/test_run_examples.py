"""Every example runs, as a user would run it, with a tiny budget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# script -> (tiny-budget arguments, text the output must contain)
CASES = {
    "svc_digits.py": (["--n-trials", "4", "--seeds", "1"], "mean best CV accuracy"),
    "mlp_iris_torch.py": (["--n-trials", "4", "--epochs", "6"], "best validation accuracy"),
    "mlp_iris_keras.py": (["--n-trials", "2", "--epochs", "3"], "best validation accuracy"),
    "cnn_digits.py": (["--n-trials", "3", "--epochs", "2"], "best validation accuracy"),
    "lightning_digits.py": (["--n-trials", "2", "--epochs", "2"], "best validation accuracy"),
    "searchcv.py": (["--n-trials", "3"], "test accuracy of the refitted best model"),
}


# Examples with a dedicated test module of their own in this folder.
DEDICATED = {"asha_checkpoint_resume.py": "test_asha_checkpoint_resume.py"}


def test_every_example_is_exercised() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    covered = set(CASES) | set(DEDICATED)
    assert scripts == covered, f"add new examples to CASES: {sorted(scripts - covered)}"
    for test_module in DEDICATED.values():
        assert (Path(__file__).parent / test_module).exists()


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs(script: str) -> None:
    args, expected = CASES[script]
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(EXAMPLES.parent / "src")}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=EXAMPLES.parent,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expected in proc.stdout
