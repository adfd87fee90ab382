"""The optimize progress bar: on when asked or on a terminal, on standard error."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import textwrap

import pytest

import hpopt
from hpopt.storage import BaseStorage

VALUES = [5.0, 2.0, 7.0, 3.0]


def _objective(trial: hpopt.Trial) -> float:
    trial.suggest_float("x", 0.0, 1.0)
    return VALUES[trial.number % len(VALUES)]


def _last_frame(err: str) -> str:
    """The last drawn line (rich redraws in place on a terminal)."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)
    lines = [line for line in re.split(r"[\r\n]", plain) if line.strip()]
    return lines[-1]


@pytest.mark.parametrize(("direction", "best"), [("minimize", "2"), ("maximize", "7")])
def test_shown_when_asked_with_done_total_and_best(
    storage: BaseStorage, capsys: pytest.CaptureFixture[str], direction: str, best: str
) -> None:
    study = hpopt.create_study(storage=storage, study_name="bar", direction=direction)
    study.optimize(_objective, n_trials=4, show_progress_bar=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    frame = _last_frame(captured.err)
    assert frame.startswith("bar")
    assert "4/4" in frame
    assert f"best: {best} " in frame
    assert re.search(r"\d+:\d\d:\d\d$", frame.strip())  # elapsed


def test_off_by_default_when_stderr_is_not_a_terminal(
    storage: BaseStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not sys.stderr.isatty()
    study = hpopt.create_study(storage=storage)
    study.optimize(_objective, n_trials=3)
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    assert capsys.readouterr() == ("", "")
    assert len(study.trials) == 4


def test_a_resumed_study_starts_from_its_earlier_best(
    storage: BaseStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    study = hpopt.create_study(storage=storage, study_name="again")
    study.optimize(_objective, n_trials=2)  # values 5, 2
    study.optimize(_objective, n_trials=1, show_progress_bar=True)  # value 7
    frame = _last_frame(capsys.readouterr().err)
    assert "1/1" in frame and "best: 2 " in frame


def test_timeout_only_counts_trials_without_a_total(
    storage: BaseStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    study = hpopt.create_study(storage=storage, study_name="timed")
    study.optimize(_objective, timeout=0.2, show_progress_bar=True)
    n = len(study.trials)
    frame = _last_frame(capsys.readouterr().err)
    assert n > 0
    assert frame.startswith("timed (timeout 0.2 s)")
    assert f"{n}/?" in frame


_SCRIPT = textwrap.dedent(
    """
    import hpopt
    study = hpopt.create_study(study_name="tty")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    print("done")
    """
)


def _run_with_stderr(stderr: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
        timeout=120,
    )


def _read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.5)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed and drained
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def test_default_is_on_in_a_real_terminal_and_off_in_a_pipe() -> None:
    leader, follower = pty.openpty()
    try:
        on_tty = _run_with_stderr(follower)
        os.close(follower)
        tty_err = _read_all(leader)
    finally:
        os.close(leader)
    assert on_tty.returncode == 0 and on_tty.stdout.strip() == "done"
    assert "3/3" in tty_err and "best:" in tty_err

    piped = _run_with_stderr(subprocess.PIPE)
    assert piped.returncode == 0 and piped.stdout.strip() == "done"
    assert piped.stderr == ""
