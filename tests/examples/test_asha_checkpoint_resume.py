"""The pause/resume example runs with a tiny budget and really resumes from checkpoints."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).parents[2] / "examples" / "asha_checkpoint_resume.py"


@pytest.fixture
def example() -> Iterator[ModuleType]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("asha_checkpoint_resume", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]
    torch.set_num_threads(threads)


def test_example_resumes_paused_trials_from_their_checkpoints(
    example: ModuleType, tmp_path: Path
) -> None:
    study = example.main(n_trials=12, max_epochs=9, checkpoint_root=str(tmp_path), seed=2)
    resumed = [t for t in study.trials if t.system_attrs.get("resumed_from") is not None]
    assert resumed, "no trial was resumed; the example does not exercise pause/resume"
    for t in resumed:
        parent = study.trials[t.system_attrs["resumed_from"]]
        paused_at = parent.system_attrs["paused_at_step"]
        assert dict(t.params) == dict(parent.params)
        assert t.system_attrs["checkpoint_dir"] == parent.system_attrs["checkpoint_dir"]
        assert (Path(parent.system_attrs["checkpoint_dir"]) / "checkpoint.pt").is_file()
        # Training went on from the checkpoint: the next epoch is no worse than a fresh
        # start would be after one epoch, and it follows the paused value closely.
        next_value = t.intermediate_values[paused_at + 1]
        assert next_value >= parent.intermediate_values[paused_at] - 0.05
    assert example.epochs_trained(study) < 12 * 9
    assert study.best_value > 0.9
