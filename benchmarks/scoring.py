"""Scores and markdown tables from quality records.

Main score, per run (``BENCHMARKS.md``)::

    score = 100 * (1 - (best - f_opt) / (f_rand - f_opt))

``f_rand`` is the mean final best of random search at the same number of evaluations (so
random search scores 0 on average), ``f_opt`` the known optimum or, when unknown, the best
value any recorded run found on that problem. Bayesmark's normalization replaces ``f_rand``
by the median of all single random-search evaluations of the problem.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.peers import REFERENCE

__all__ = [
    "Paired",
    "Score",
    "mean_se",
    "paired_differences",
    "paired_versus",
    "score_records",
    "quality_tables",
    "timing_table",
]

Setting = tuple[int, int, int]  # (budget, batch or 0, asynchronous workers or 0)


@dataclass
class Score:
    """A record's scores (``None`` when the problem cannot be scored)."""

    optimizer: str
    problem: str
    kind: str
    seed: int
    setting: Setting
    score: float | None
    bayesmark: float | None
    optimizer_seconds_per_eval: float


@dataclass
class Scoring:
    scores: list[Score] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _normalized(best: float, f_opt: float, ref: float) -> float | None:
    span = ref - f_opt
    if not math.isfinite(span) or span <= 1e-12 * max(1.0, abs(f_opt)):
        return None
    return 100.0 * (1.0 - (best - f_opt) / span)


def score_records(records: Iterable[Mapping[str, Any]]) -> Scoring:
    """Score every ok quality record against the references found in ``records``."""
    ok = [r for r in records if r.get("kind", "quality") == "quality" and r["status"] == "ok"]
    out = Scoring()
    f_opt: dict[str, float] = {}
    random_best: dict[tuple[str, int], list[float]] = defaultdict(list)
    random_values: dict[str, list[float]] = defaultdict(list)
    for r in ok:
        problem, best = r["problem"], float(r["best"])
        known = r.get("f_opt")
        f_opt[problem] = float(known) if known is not None else min(f_opt.get(problem, best), best)
        if r["optimizer"] == REFERENCE:
            random_best[(problem, r["budget"])].append(best)
            random_values[problem].extend(float(v) for v in r["values"])
    unscorable: set[str] = set()
    for r in ok:
        problem, budget = r["problem"], int(r["budget"])
        refs = random_best.get((problem, budget))
        if not refs:
            out.notes.append(f"no {REFERENCE} runs for {problem} at budget {budget}: not scored")
            continue
        f_rand = statistics.fmean(refs)
        score = _normalized(float(r["best"]), f_opt[problem], f_rand)
        if score is None:
            unscorable.add(problem)
        bm = _normalized(
            float(r["best"]), f_opt[problem], statistics.median(random_values[problem])
        )
        out.scores.append(
            Score(
                r["optimizer"],
                problem,
                r.get("problem_kind", ""),
                int(r["seed"]),
                (budget, int(r.get("batch") or 0), int(r.get("workers") or 0)),
                score,
                bm,
                float(r["optimizer_seconds"]) / max(1, len(r["values"])),
            )
        )
    for problem in sorted(unscorable):
        out.notes.append(f"{problem}: random search already reaches the best value; left out")
    out.notes = list(dict.fromkeys(out.notes))
    return out


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return mean, se


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or math.isnan(x):
        return ""
    return f"{round(x, digits) + 0.0:.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def _setting_title(setting: Setting) -> str:
    budget, batch, workers = setting
    if batch:
        return f"{budget // batch} rounds x {batch} ({budget} evaluations)"
    if workers:
        return f"budget {budget}, {workers} asynchronous workers"
    return f"budget {budget}, sequential"


@dataclass(frozen=True)
class Paired:
    """Scores of one optimizer in a parallel setting minus its sequential scores at the same
    budget, paired by problem and seed."""

    optimizer: str
    setting: Setting
    differences: tuple[tuple[str, int, float], ...]  # (problem, seed, difference)

    @property
    def mean(self) -> float:
        return statistics.fmean(d for _, _, d in self.differences)

    @property
    def se(self) -> float:
        return mean_se([d for _, _, d in self.differences])[1]

    def per_problem(self) -> dict[str, float]:
        """Mean difference per problem (over its seeds)."""
        by_problem: dict[str, list[float]] = defaultdict(list)
        for problem, _, d in self.differences:
            by_problem[problem].append(d)
        return {p: statistics.fmean(v) for p, v in by_problem.items()}


def paired_differences(scores: Iterable[Score], attr: str = "score") -> list[Paired]:
    """For every optimizer run both sequentially and in a batch or asynchronous setting of
    the same budget: the paired differences of ``attr`` (``"score"`` or ``"bayesmark"``),
    parallel minus sequential."""
    sequential: dict[tuple[str, int, str, int], float] = {}
    parallel: dict[tuple[str, Setting], list[tuple[Score, float]]] = defaultdict(list)
    for s in scores:
        value = getattr(s, attr)
        if value is None or s.optimizer == REFERENCE:
            continue
        if s.setting[1] or s.setting[2]:
            parallel[(s.optimizer, s.setting)].append((s, value))
        else:
            sequential[(s.optimizer, s.setting[0], s.problem, s.seed)] = value
    out = []
    for (name, setting), items in parallel.items():
        diffs = tuple(
            (s.problem, s.seed, value - base)
            for s, value in items
            if (base := sequential.get((name, setting[0], s.problem, s.seed))) is not None
        )
        if diffs:
            out.append(Paired(name, setting, diffs))
    return out


def paired_versus(scores: Iterable[Score], versus: str, attr: str = "score") -> list[Paired]:
    """For every other optimizer: its ``attr`` minus that of ``versus`` in the same setting,
    problem and seed (runs without a counterpart are left out)."""
    scores = [s for s in scores if getattr(s, attr) is not None and s.optimizer != REFERENCE]
    base = {
        (s.setting, s.problem, s.seed): getattr(s, attr) for s in scores if s.optimizer == versus
    }
    diffs: dict[tuple[str, Setting], list[tuple[str, int, float]]] = defaultdict(list)
    for s in scores:
        b = base.get((s.setting, s.problem, s.seed))
        if s.optimizer != versus and b is not None:
            diffs[(s.optimizer, s.setting)].append((s.problem, s.seed, getattr(s, attr) - b))
    return [Paired(name, setting, tuple(d)) for (name, setting), d in diffs.items()]


def _versus_lines(scores: list[Score], versus: str) -> list[str]:
    lines = [
        f"### Minus {versus}, paired by setting, problem and seed",
        "",
        "| optimizer | setting | kind | mean difference | SE | better | worse | tied | pairs |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    kinds = {s.problem: s.kind for s in scores}
    for p in sorted(paired_versus(scores, versus), key=lambda p: (p.setting, p.optimizer)):
        groups = {"all": list(p.differences)}
        for kind in sorted({kinds[d[0]] for d in p.differences}):
            groups[kind] = [d for d in p.differences if kinds[d[0]] == kind]
        if len(groups) == 2:
            del groups["all"]
        for kind, ds in groups.items():
            vals = [d for _, _, d in ds]
            mean, se = mean_se(vals)
            better = sum(v > 1e-9 for v in vals)
            worse = sum(v < -1e-9 for v in vals)
            lines.append(
                f"| {p.optimizer} | {_setting_title(p.setting)} | {kind} | {_fmt(mean)}"
                f" | {_fmt(se)} | {better} | {worse} | {len(vals) - better - worse}"
                f" | {len(vals)} |"
            )
    return [*lines, ""] if len(lines) > 4 else []


def _paired_lines(scores: list[Score]) -> list[str]:
    pairs = paired_differences(scores)
    if not pairs:
        return []
    lines = [
        "### Parallel minus sequential, paired by problem and seed (same budget)",
        "",
        "| optimizer | setting | mean difference | SE | pairs (problems) |",
        "|---|---|---:|---:|---:|",
    ]
    for p in sorted(pairs, key=lambda p: (p.setting, p.optimizer)):
        problems = len({d[0] for d in p.differences})
        lines.append(
            f"| {p.optimizer} | {_setting_title(p.setting)} | {_fmt(p.mean)} | {_fmt(p.se)}"
            f" | {len(p.differences)} ({problems}) |"
        )
    return [*lines, ""]


def _summary(scores: list[Score], attr: str, title: str) -> list[str]:
    by_opt: dict[str, list[Score]] = defaultdict(list)
    for s in scores:
        if getattr(s, attr) is not None:
            by_opt[s.optimizer].append(s)
    kinds = sorted({s.kind for s in scores})
    rows = []
    for name, items in by_opt.items():
        mean, se = mean_se([getattr(s, attr) for s in items])
        per_kind = []
        for kind in kinds:
            vals = [getattr(s, attr) for s in items if s.kind == kind]
            per_kind.append(_fmt(statistics.fmean(vals)) if vals else "")
        ms = 1000 * statistics.median(s.optimizer_seconds_per_eval for s in items)
        problems = len({s.problem for s in items})
        rows.append((mean, name, se, per_kind, len(items), problems, ms))
    rows.sort(key=lambda row: -row[0])
    lines = [
        title,
        "",
        "| optimizer | mean score | SE | "
        + "".join(f"{k} | " for k in kinds)
        + "runs (problems) | optimizer ms / eval |",
        "|---|---:|---:|" + "---:|" * len(kinds) + "---:|---:|",
    ]
    for mean, name, se, per_kind, n, problems, ms in rows:
        kind_cells = "".join(f"{c} | " for c in per_kind)
        lines.append(
            f"| {name} | {_fmt(mean)} | {_fmt(se)} | {kind_cells}{n} ({problems}) | {ms:.1f} |"
        )
    return [*lines, ""]


def _per_problem(scores: list[Score], title: str) -> list[str]:
    problems = list(dict.fromkeys(s.problem for s in scores))
    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    for s in scores:
        if s.score is not None:
            cells[(s.optimizer, s.problem)].append(s.score)
    optimizers = list(dict.fromkeys(s.optimizer for s in scores))
    lines = [
        title,
        "",
        "| optimizer | " + " | ".join(problems) + " |",
        "|---|" + "---:|" * len(problems),
    ]
    for name in optimizers:
        row = [_fmt(statistics.fmean(v)) if (v := cells.get((name, p))) else "" for p in problems]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return [*lines, ""]


def quality_tables(
    records: Sequence[Mapping[str, Any]], *, per_problem: bool = False, versus: str | None = None
) -> str:
    """Markdown: per setting, the main score table and the Bayesmark-style one; with
    ``versus``, every optimizer's paired differences against that one."""
    scoring = score_records(records)
    by_setting: dict[Setting, list[Score]] = defaultdict(list)
    for s in scoring.scores:
        if s.optimizer != REFERENCE:
            by_setting[s.setting].append(s)
    for s in scoring.scores:
        if s.optimizer == REFERENCE:
            # Random search ignores the round size: its runs anchor every setting of a budget.
            targets = [k for k in by_setting if k[0] == s.setting[0]] or [s.setting]
            for setting in targets:
                by_setting[setting].append(s)
    lines: list[str] = []
    for setting in sorted(by_setting):
        scores = by_setting[setting]
        # Seeds of the optimizers compared; the random reference may have run more.
        n_seeds = len(
            {s.seed for s in scores if s.optimizer != REFERENCE} or {s.seed for s in scores}
        )
        head = f"### {_setting_title(setting)}, {n_seeds} seed(s)"
        lines += _summary(scores, "score", f"{head}: score (random search = 0, optimum = 100)")
        lines += _summary(scores, "bayesmark", f"{head}: Bayesmark-style normalized score")
        if per_problem:
            lines += _per_problem(scores, f"{head}: score per problem (mean over seeds)")
    lines += _paired_lines(scoring.scores)
    if versus:
        lines += _versus_lines(scoring.scores, versus)
    skipped: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r.get("kind", "quality") == "quality" and r["status"] != "ok":
            setting = (int(r["budget"]), int(r.get("batch") or 0), int(r.get("workers") or 0))
            title = _setting_title(setting)
            why = f"{r['optimizer']}, {title}: {r['status']} ({r.get('error', '')})"
            skipped[why].append(f"{r['problem']}/{r['seed']}")
    for why, runs in skipped.items():
        scoring.notes.append(f"{why} in {len(runs)} run(s): {', '.join(runs[:6])}")
    if scoring.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in dict.fromkeys(scoring.notes)] + [""]
    return "\n".join(lines)


def timing_table(records: Sequence[Mapping[str, Any]]) -> str:
    """Markdown: median optimizer time (ask + tell) per trial at each checkpoint."""
    timing = [r for r in records if r.get("kind") == "timing"]
    if not timing:
        return ""
    checkpoints = sorted({int(n) for r in timing for n in r.get("median_ms", {})})
    lines = [
        "| optimizer | " + " | ".join(f"@{n:,}" for n in checkpoints) + " | note |",
        "|---|" + "---:|" * len(checkpoints) + "---|",
    ]
    for r in timing:
        if r["status"] != "ok":
            lines.append(f"| {r['optimizer']} |" + " |" * len(checkpoints) + f" {r['status']} |")
            continue
        cells = []
        for n in checkpoints:
            ms = r["median_ms"].get(str(n))
            cells.append(f"{ms:,.1f} ms" if ms is not None else "-")
        note = f"{r['trials_reached']} trials in {r['optimizer_seconds']:.0f} s"
        lines.append(f"| {r['optimizer']} | " + " | ".join(cells) + f" | {note} |")
    return "\n".join(lines) + "\n"
