"""``import hpopt`` stays light: heavy dependencies load only when a feature needs them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["sqlalchemy", "torch", "pandas", "scipy", "yaml", "rich", "plotly", "dask", "ray"]


def _modules_after(code: str) -> set[str]:
    """Top-level modules imported by ``code`` in a fresh interpreter."""
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_import_hpopt_loads_no_heavy_dependency() -> None:
    loaded = _modules_after("import hpopt")
    assert "hpopt" in loaded and "numpy" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_first_trial_without_progress_bar_stays_light() -> None:
    loaded = _modules_after(
        "import hpopt\n"
        "s = hpopt.create_study(sampler=hpopt.QMCSampler(seed=0))\n"
        "s.optimize(lambda t: t.suggest_float('x', 0, 1), n_trials=1, show_progress_bar=False)"
    )
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_qmc_loads_scipy_only_when_it_samples_jointly() -> None:
    loaded = _modules_after(
        "import hpopt\n"
        "s = hpopt.create_study(sampler=hpopt.QMCSampler(seed=0))\n"
        "s.optimize(lambda t: t.suggest_float('x', 0, 1), n_trials=3, show_progress_bar=False)"
    )
    assert "scipy" in loaded  # the check above is not vacuous
