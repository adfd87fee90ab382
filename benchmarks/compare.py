"""Two results files of the same optimizers (e.g. two versions of a sampler), scored together.

Each file's own report takes ``f_opt`` of a problem without a known optimum from the best
value its own runs found, so one lucky run in one file moves every score of that problem in
that file, and two files' reports are not on one scale. Here the runs of both files are
scored against the same references (random-search runs of both files, the best value any run
of either file found), then paired run by run (same optimizer, setting, problem and seed)::

    python -m benchmarks compare OLD.jsonl NEW.jsonl

prints, per optimizer and setting, NEW minus OLD, and for each file the parallel-minus-
sequential differences (as in ``parallel-quality``) on the shared scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.peers import REFERENCE
from benchmarks.records import load_records
from benchmarks.scoring import Score, Setting, mean_se, paired_differences, score_records

__all__ = ["compare_report", "paired_between"]

_SEP = " @ "


def _tagged(records: Sequence[Mapping[str, Any]], tag: str) -> list[dict[str, Any]]:
    return [
        {**r, "optimizer": f"{r['optimizer']}{_SEP}{tag}"}
        for r in records
        if r["optimizer"] != REFERENCE
    ]


def paired_between(
    scores: Sequence[Score], old: str, new: str, attr: str = "score"
) -> dict[tuple[str, Setting], list[float]]:
    """Per (optimizer, setting): ``new`` minus ``old`` scores of the runs both tags hold."""
    by_tag: dict[str, dict[tuple[str, Setting, str, int], float]] = {old: {}, new: {}}
    for s in scores:
        value = getattr(s, attr)
        name, sep, tag = s.optimizer.rpartition(_SEP)
        if value is None or not sep or tag not in by_tag:
            continue
        by_tag[tag][(name, s.setting, s.problem, s.seed)] = value
    out: dict[tuple[str, Setting], list[float]] = {}
    for key, value in by_tag[new].items():
        base = by_tag[old].get(key)
        if base is not None:
            out.setdefault((key[0], key[1]), []).append(value - base)
    return out


def _setting(setting: Setting) -> str:
    budget, batch, workers = setting
    if batch:
        return f"{budget // batch} x {batch}"
    return f"budget {budget}, {workers} workers" if workers else f"budget {budget}, sequential"


def compare_report(old: str | Path, new: str | Path) -> str:
    """Markdown: ``new`` minus ``old``, and each file's parallel-minus-sequential difference,
    all scored against the references of both files together."""
    a, b = load_records([old]), load_records([new])
    references = [r for r in load_records([old, new]) if r["optimizer"] == REFERENCE]
    scores = score_records(references + _tagged(a, "old") + _tagged(b, "new")).scores
    lines = [
        f"### {Path(new).name} minus {Path(old).name}, paired by problem and seed",
        "",
        "| optimizer | setting | mean difference | SE | Bayesmark-style | SE | pairs |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    main = paired_between(scores, "old", "new")
    bayesmark = paired_between(scores, "old", "new", "bayesmark")
    for (name, setting), diffs in sorted(main.items()):
        m, se = mean_se(diffs)
        bm, bse = mean_se(bayesmark.get((name, setting), [math.nan, math.nan]))
        lines.append(
            f"| {name} | {_setting(setting)} | {m:+.2f} | {se:.2f} | {bm:+.2f} | {bse:.2f} "
            f"| {len(diffs)} |"
        )
    lines += [
        "",
        "### Parallel minus sequential, each file, on the shared scale",
        "",
        "| optimizer | file | setting | mean difference | SE | Bayesmark-style | SE | pairs |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    bm_pairs = {(p.optimizer, p.setting): p for p in paired_differences(scores, "bayesmark")}
    for pair in sorted(paired_differences(scores), key=lambda p: (p.optimizer, p.setting)):
        name, _, tag = pair.optimizer.rpartition(_SEP)
        path = Path(old if tag == "old" else new).name
        bp = bm_pairs.get((pair.optimizer, pair.setting))
        bm_text = "| |" if bp is None else f"| {bp.mean:+.2f} | {bp.se:.2f} |"
        lines.append(
            f"| {name} | {path} | {_setting(pair.setting)} | {pair.mean:+.2f} | {pair.se:.2f} "
            f"{bm_text} {len(pair.differences)} |"
        )
    return "\n".join(lines) + "\n"
