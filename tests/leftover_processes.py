"""Nothing a test session starts outlives it: at the session's end, every process the session started that is still
running is named by PID and command, stopped, and the session fails.

A process is the session's when it runs below pytest; or when it carries the session's mark in its environment
(SESSION_VARIABLE, set when the session starts, inherited by whatever the suite starts): what a killed parent left
behind has been re-parented to init, but it keeps its environment; or when its working directory, command line or
environment names a path in the session's temporary directory (a local pod starts with an environment of its own).

A pytest plugin: tests/conftest.py enables it for the suite. Under pytest-xdist (scripts/test runs two workers)
each worker is a session of its own that checks and stops what it started; it hands the list to the controlling
process, which fails the run and names them.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from clusterfabric.runner.processes import PROC, Process, descendants, processes

SESSION_VARIABLE = "CLUSTERFABRIC_TEST_SESSION"
"""Holds the PID of the pytest process whose session started the process that has it in its environment."""
GRACE_SECONDS = 10.0
"""How long a leftover may take to end on SIGTERM before it is killed."""

_TEMPORARY = pytest.StashKey[Path]()
_LEFT = pytest.StashKey[list[str]]()
WORKER_OUTPUT = "leftover_processes"
"""Where an xdist worker hands its leftovers to the controlling process (`config.workeroutput`)."""


def _text(pid: int, name: str) -> str:
    """/proc/PID/<name> ("cmdline", "environ": NUL-separated) as text; "" once the process is gone."""
    try:
        return (PROC / str(pid) / name).read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _names_a_path_in(text: str, directory: Path) -> bool:
    """Whether `text` holds `directory` or a path below it (not merely a sibling sharing its prefix)."""
    return re.search(re.escape(str(directory)) + r"(?![^/\0\s\"':;,])", text) is not None


def pointing_into(directory: Path, table: list[Process] | None = None) -> list[Process]:
    """The processes whose working directory, command line or environment names a path in `directory`."""
    directory = directory.resolve()
    found = []
    for process in processes() if table is None else table:
        try:
            cwd = os.readlink(PROC / str(process.pid) / "cwd")
        except OSError:
            cwd = ""
        if any(_names_a_path_in(text, directory)
               for text in (cwd, _text(process.pid, "cmdline"), _text(process.pid, "environ"))):
            found.append(process)
    return found


def started_by_session(session_pid: int, temporary: Path | None) -> list[Process]:
    """Every running process the session of pytest process `session_pid` started (see the module's docstring)."""
    table = [p for p in processes() if p.pid != session_pid and p.command]  # no command: a zombie or a kernel thread
    mark = f"{SESSION_VARIABLE}={session_pid}"
    mine = {p.pid: p for p in descendants(session_pid, table)}
    mine |= {p.pid: p for p in table if mark in _text(p.pid, "environ").split("\0")}
    if temporary is not None:
        mine |= {p.pid: p for p in pointing_into(temporary, table)}
    return sorted(mine.values(), key=lambda p: p.pid)


def running(pid: int) -> bool:
    """Whether `pid` runs: it exists and is no zombie (one that has ended and awaits its parent)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reaps it when it is our child and has ended
    except ChildProcessError:
        pass
    stat = _text(pid, "stat")
    return bool(stat) and stat[stat.rindex(")") + 2:].split()[0] != "Z"


def stop(left: list[Process], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to each of `left` (by PID: each may be the leader of a group of its own, or of none), SIGKILL to
    those still running after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in left:
            try:
                os.kill(process.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(running(p.pid) for p in left):
            time.sleep(0.1)


def pytest_sessionstart(session: pytest.Session) -> None:
    os.environ[SESSION_VARIABLE] = str(os.getpid())


@pytest.fixture(scope="session", autouse=True)
def _session_temporary(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Note the session's temporary directory, under which the tests run what they start."""
    request.config.stash[_TEMPORARY] = tmp_path_factory.getbasetemp()


@pytest.hookimpl(trylast=True)  # after pytest's own, which tears down what fixtures are still set up
def pytest_sessionfinish(session: pytest.Session) -> None:
    left = started_by_session(os.getpid(), session.config.stash.get(_TEMPORARY, None))
    stop(left)
    found = session.config.stash.setdefault(_LEFT, [])
    found += [str(p) for p in left]
    if hasattr(session.config, "workeroutput"):  # an xdist worker: its controller reports them
        session.config.workeroutput[WORKER_OUTPUT] = found
    elif found and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's: a worker has finished, with what it hands over
def pytest_testnodedown(node, error) -> None:
    node.config.stash.setdefault(_LEFT, []).extend(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, []))


def pytest_terminal_summary(terminalreporter) -> None:
    left = terminalreporter.config.stash.get(_LEFT, [])
    if left and not hasattr(terminalreporter.config, "workeroutput"):
        terminalreporter.section("processes the session left running (now stopped)", sep="=", red=True, bold=True)
        for process in left:
            terminalreporter.line(process, red=True)
        terminalreporter.line(f"{len(left)} processes outlived the tests that started them: the session fails",
                              red=True)
