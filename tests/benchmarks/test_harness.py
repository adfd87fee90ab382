"""Smoke and contract tests of the benchmark harness (small budgets, a few seconds)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.cli import main
from benchmarks.compare import compare_report
from benchmarks.peers import PEERS, REFERENCE, PeerUnavailable, get_peer
from benchmarks.peers.base import coerce
from benchmarks.problems import PROBLEMS, Problem, get_problem, resolve_problems
from benchmarks.problems.synthetic import SYNTHETIC_PROBLEMS
from benchmarks.quality import execute, plan, run_tasks
from benchmarks.records import load_records
from benchmarks.scoring import paired_versus, quality_tables, score_records
from benchmarks.timing import run_timing

from hpopt import Categorical, Float, Int

SMOKE_PROBLEMS = ["branin", "DT_wine"]


def _smoke_optimizers() -> list[str]:
    names = ["hpopt-random"]
    if PEERS["optuna-tpe"].unavailable() is None:
        names.append("optuna-tpe")
    return names


def _read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_quality_run_records_every_run_and_scores_it(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    optimizers = _smoke_optimizers()
    tasks = plan(optimizers, SMOKE_PROBLEMS, [0], budget=4)
    assert run_tasks(tasks, out, log=lambda _: None) == len(tasks)

    lines = _read_lines(out)
    assert len(lines) == len(SMOKE_PROBLEMS) * (len(optimizers) + 1)  # + random reference
    assert {r["optimizer"] for r in lines} == {REFERENCE, *optimizers}
    for r in lines:
        assert r["status"] == "ok", r
        assert len(r["values"]) == 4
        assert r["best"] == min(r["values"])

    scoring = score_records(load_records([out]))
    assert len(scoring.scores) == len(lines)
    for s in scoring.scores:
        if s.problem == "branin":
            assert s.score is not None and math.isfinite(s.score)
        if s.optimizer == REFERENCE and s.score is not None:
            # One seed: random's own best is f_rand, so it scores exactly 0. (On DT_wine the
            # score is None when random search itself found the best value of all runs.)
            assert s.score == pytest.approx(0.0, abs=1e-9)
    assert any(s.optimizer == REFERENCE and s.score is not None for s in scoring.scores)
    table = quality_tables(load_records([out]))
    assert "| random | 0.0 |" in table
    assert "Bayesmark-style" in table


def test_rerun_skips_recorded_runs_and_recovers_a_torn_line(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    tasks = plan(["hpopt-random"], ["branin"], [0, 1], budget=3)
    run_tasks(tasks, out, log=lambda _: None)
    assert run_tasks(tasks, out, log=lambda _: None) == 0

    text = out.read_text()
    out.write_text(text[: len(text) - 20])  # a run killed while writing its line
    assert len(load_records([out])) == len(tasks) - 1
    assert run_tasks(tasks, out, log=lambda _: None) == 1
    assert len(load_records([out])) == len(tasks)


def _record(
    optimizer: str,
    seed: int,
    best: float,
    values: list[float],
    *,
    f_opt: float | None,
    workers: int | None = None,
) -> dict[str, Any]:
    """A finished quality record of problem ``p`` at budget 8."""
    return {
        "kind": "quality",
        "optimizer": optimizer,
        "problem": "p",
        "seed": seed,
        "budget": 8,
        "batch": None,
        "workers": workers,
        "status": "ok",
        "values": values,
        "best": best,
        "f_opt": f_opt,
        "problem_kind": "synthetic" if f_opt is not None else "sklearn",
        "optimizer_seconds": 0.0,
    }


def test_score_formula_and_reference() -> None:
    def record(optimizer: str, seed: int, best: float) -> dict[str, Any]:
        return _record(optimizer, seed, best, [best + 4.0, best], f_opt=0.0)

    records = [record(REFERENCE, 0, 8.0), record(REFERENCE, 1, 12.0), record("x", 0, 2.5)]
    scores = {(s.optimizer, s.seed): s for s in score_records(records).scores}
    assert scores[("x", 0)].score == pytest.approx(75.0)  # f_rand = 10
    assert scores[(REFERENCE, 0)].score == pytest.approx(20.0)
    assert scores[(REFERENCE, 1)].score == pytest.approx(-20.0)
    # Bayesmark: median of all random evaluations (8, 12, 12, 16) is 12.
    assert scores[("x", 0)].bayesmark == pytest.approx(100 * (1 - 2.5 / 12))
    # The table heading counts the compared optimizer's seeds, not the reference's.
    assert "1 seed(s)" in quality_tables(records)
    assert "2 seed(s)" in quality_tables([*records, record("x", 1, 3.0)])


def test_synthetic_optima_are_lower_bounds_and_attained() -> None:
    optima = {
        "branin": {"x0": math.pi, "x1": 2.275},
        "hartmann6": dict(
            zip(
                [f"x{i}" for i in range(6)],
                [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
            )
        ),
        "rosenbrock4": {f"x{i}": 1.0 for i in range(4)},
        "ackley5": {f"x{i}": 0.0 for i in range(5)},
        "levy4": {f"x{i}": 1.0 for i in range(4)},
        "mixed": {"x": 1.5, "lr": 1e-2, "k": 12, "c": "b"},
    }
    assert set(optima) == set(SYNTHETIC_PROBLEMS)
    rng = np.random.default_rng(0)
    for name, argmin in optima.items():
        problem = get_problem(name)
        assert problem.f_opt is not None
        assert problem.evaluate(argmin) == pytest.approx(problem.f_opt, abs=1e-5)
        for _ in range(300):
            config = {k: d.from_unit(float(rng.random())) for k, d in problem.space.items()}
            assert problem.evaluate(config) >= problem.f_opt - 1e-6


@pytest.mark.slow  # imports every peer library (torch for optuna-gp): ~10-20 s
def test_every_adapter_proposes_valid_configs_in_batches() -> None:
    seen: list[Mapping[str, Any]] = []
    base = get_problem("mixed")

    def checked(config: Mapping[str, Any]) -> float:
        for name, dist in base.space.items():
            assert dist.contains(config[name]), (name, config[name])
        seen.append(config)
        return base.evaluate(config)

    problem = Problem("mixed", base.space, checked, base.f_opt)
    for name, peer in PEERS.items():
        if peer.unavailable() is not None or name == "smac":  # SMAC takes seconds to start
            continue
        seen.clear()
        values = peer.run(problem, 4, seed=0, batch=2 if peer.batch else None)
        assert len(values) == 4 == len(seen), name
        assert values == [base.evaluate(c) for c in seen], name


def test_coerce_maps_library_values_into_the_space() -> None:
    assert coerce(Int(0, 10), np.float64(3.6)) == 4
    assert coerce(Int(0, 10), 11.2) == 10
    assert coerce(Int(10, 5000, log=True), 9.6) == 10
    assert coerce(Float(1e-5, 1.0, log=True), 1.0000000000000002) == 1.0
    assert coerce(Categorical(("a", "b")), ("index", np.int64(1))) == "b"
    assert coerce(Categorical((True, False)), False) is False


def test_registry_names_and_missing_samplers() -> None:
    assert resolve_problems("SVM_WINE,branin,svm_wine") == ["SVM_wine", "branin"]
    assert len(resolve_problems("sklearn")) == 45
    assert set(resolve_problems("public")) <= set(PROBLEMS)
    missing = get_peer("hpopt:hpopt.NoSuchSampler")
    assert "does not exist" in (missing.unavailable() or "")
    with pytest.raises(PeerUnavailable):
        missing.run(get_problem("branin"), 2, seed=0)
    with pytest.raises(ValueError, match="multiple"):
        get_peer("hpopt-random").run(get_problem("branin"), 5, seed=0, batch=2)


def test_timing_reports_medians_at_reached_checkpoints() -> None:
    record = run_timing("hpopt-random", [60, 120], time_limit=30.0)
    assert record["status"] == "ok"
    assert record["trials_reached"] == 120
    assert set(record["median_ms"]) == {"60", "120"}
    assert all(ms > 0 for ms in record["median_ms"].values())


def test_cli_quality_then_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.jsonl"
    argv = ["quality", "--optimizers", "hpopt-random", "--problems", "branin"]
    assert main([*argv, "--budget", "3", "--seeds", "2", "--out", str(out)]) == 0
    assert main(["table", str(out), "--per-problem"]) == 0
    printed = capsys.readouterr().out
    assert "| hpopt-random |" in printed
    assert "score per problem" in printed


class _CountingSession:
    """Records how many proposals are pending at each ask; proposes x = ask order."""

    def __init__(self, space: Any, seed: int, budget: int) -> None:
        self.pending: set[int] = set()
        self.pending_at_ask: list[int] = []
        self.told: list[int] = []
        self.asked = 0

    def ask(self, n: int) -> list[tuple[Any, dict[str, Any]]]:
        out = []
        for _ in range(n):
            self.pending_at_ask.append(len(self.pending))
            self.pending.add(self.asked)
            out.append((self.asked, {"x": float(self.asked)}))
            self.asked += 1
        return out

    def tell(self, results: Any) -> None:
        for token, _ in results:
            self.pending.remove(token)
            self.told.append(token)


def test_asynchronous_workers_keep_k_pending_and_tell_in_simulated_order() -> None:
    from benchmarks.peers.base import Peer

    sessions: list[_CountingSession] = []

    def start(space: Any, seed: int, budget: int) -> _CountingSession:
        sessions.append(_CountingSession(space, seed, budget))
        return sessions[-1]

    peer = Peer("counting", start, asynchronous=True)
    problem = Problem("line", {"x": Float(0.0, 100.0)}, lambda c: float(c["x"]), 0.0)
    values = peer.run(problem, 20, seed=3, workers=4)
    session = sessions[-1]
    assert session.asked == 20 and not session.pending
    # 4 asked up front (0..3 pending), then one new ask per tell with 3 still running.
    assert session.pending_at_ask == [0, 1, 2, 3] + [3] * 16
    assert values == [float(t) for t in session.told]  # values in the order told
    assert sorted(session.told) == list(range(20))
    assert session.told != list(range(20))  # seeded durations reorder completions
    assert peer.run(problem, 20, seed=3, workers=4) == values  # and deterministically
    assert peer.run(problem, 20, seed=4, workers=4) != values
    # One worker is the sequential loop.
    peer.run(problem, 5, seed=0, workers=1)
    assert sessions[-1].pending_at_ask == [0] * 5 and sessions[-1].told == list(range(5))
    with pytest.raises(ValueError, match="exclusive"):
        peer.run(problem, 8, seed=0, batch=2, workers=2)
    sync_only = Peer("sync", start)
    with pytest.raises(ValueError, match="asynchronous"):
        sync_only.run(problem, 8, seed=0, workers=2)


def test_hpopt_sampler_sees_running_trials_of_asynchronous_workers() -> None:
    problem = get_problem("branin")
    sequential = get_peer("hpopt-random").run(problem, 8, seed=0)
    assert get_peer("hpopt-random").run(problem, 8, seed=0, workers=1) == sequential
    # Random search ignores history: the same proposals, told in another order.
    parallel = get_peer("hpopt-random").run(problem, 8, seed=0, workers=3)
    assert sorted(parallel) == sorted(sequential) and parallel != sequential


def test_parallel_quality_records_settings_and_pairs_them(tmp_path: Path) -> None:
    from benchmarks.parallel_quality import load_report, run_parallel_quality

    out = tmp_path / "pq.jsonl"
    run_parallel_quality(
        ["hpopt-random"], ["branin"], [0, 1], out, budget=6, workers=3, log=lambda _: None
    )
    records = load_records([out])
    assert sorted((r["optimizer"], r["workers"] or 0) for r in records) == sorted(
        [("random", 0), ("hpopt-random", 0), ("hpopt-random", 3)] * 2
    )
    (task,) = plan(["hyperopt"], ["branin"], [0], 4, workers=2, reference=False)
    assert execute(task)["status"] in ("n/a", "unavailable")  # no asynchronous adapter
    report = load_report([out], budget=6, workers=3, per_problem=True)
    assert "budget 6, 3 asynchronous workers" in report
    assert "budget 6, sequential" in report
    assert "Paired difference over 2 runs (1 problems x seeds 0-1)" in report
    assert "| hpopt-random | budget 6, 3 asynchronous workers |" in report


def test_compare_scores_both_files_on_one_scale(tmp_path: Path) -> None:
    def record(optimizer: str, seed: int, best: float, workers: int | None) -> dict[str, Any]:
        return _record(optimizer, seed, best, [best], f_opt=None, workers=workers)

    shared = [record(REFERENCE, 0, 10.0, None), record(REFERENCE, 1, 12.0, None)]
    shared.append(record("x", 0, 4.0, None))
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    for path, parallel_best in ((old, 2.0), (new, 6.0)):
        lines = [*shared, record("x", 0, parallel_best, 4)]
        path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    report = compare_report(old, new)
    # f_rand = 11 and f_opt = 2 (the old file's run) for both files: sequential 77.8,
    # old parallel 100, new parallel 55.6. The new file alone would have f_opt = 4.
    rows = {tuple(c.strip() for c in line.split("|")[1:4]): line for line in report.splitlines()}
    assert "| +0.00 |" in rows[("x", "budget 8, sequential", "+0.00")]
    assert ("x", "budget 8, 4 workers", "-44.44") in rows
    assert ("x", "old.jsonl", "budget 8, 4 workers") in rows
    assert "| +22.22 |" in rows[("x", "old.jsonl", "budget 8, 4 workers")]
    assert "| -22.22 |" in rows[("x", "new.jsonl", "budget 8, 4 workers")]


def test_versus_pairs_each_optimizer_with_the_named_one_by_seed() -> None:
    def record(optimizer: str, seed: int, best: float) -> dict[str, Any]:
        return _record(optimizer, seed, best, [best], f_opt=0.0)

    # f_rand = 10: scores are 100 - 10 * best.
    records = [record(REFERENCE, 0, 10.0), record(REFERENCE, 1, 10.0)]
    records += [record("peer", 0, 5.0), record("peer", 1, 2.0)]
    records += [record("x", 0, 3.0), record("x", 1, 2.0), record("x", 2, 1.0)]
    pairs = {p.optimizer: p for p in paired_versus(score_records(records).scores, "peer")}
    assert set(pairs) == {"x"}  # seed 2 has no counterpart and is left out
    assert sorted(d for _, _, d in pairs["x"].differences) == pytest.approx([0.0, 20.0])
    table = quality_tables(records, versus="peer")
    row = next(line for line in table.splitlines() if line.startswith("| x | budget 8"))
    assert [c.strip() for c in row.split("|")[3:10]] == [
        "synthetic",
        "10.0",
        "10.0",
        "1",
        "0",
        "1",
        "2",
    ]
