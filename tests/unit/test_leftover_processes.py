"""The session-end check (tests/leftover_processes.py), on sessions of their own: a process a test leaves running
fails the session, named by PID and command, and is stopped; whether it runs below pytest, was re-parented when its
parent ended, or was started with an environment of its own in the session's temporary directory; and when the
tests run in pytest-xdist's workers, each worker hands what it found to the run, which fails."""

from __future__ import annotations

import re

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.leftover_processes import running

pytest_plugins = ["pytester"]

LEAVING = """
import subprocess


def test_leaves_its_child_running():
    subprocess.Popen(["sleep", "601"])


def test_leaves_a_process_whose_parent_ended():
    subprocess.run(["sh", "-c", "sleep 602 >/dev/null 2>&1 &"], check=True)


def test_leaves_a_process_with_an_environment_of_its_own_in_its_temporary_directory(tmp_path):
    subprocess.run(["sh", "-c", "sleep 603 >/dev/null 2>&1 &"], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                   check=True)
"""

TIDY = """
import subprocess


def test_waits_for_its_child():
    subprocess.run(["sleep", "0.1"], check=True)
"""


@pytest.fixture()
def checked(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A directory for a session of its own with the check, imported from this checkout."""
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_DIR))
    return pytester


def session(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "tests.leftover_processes", *args, timeout=120)


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "two xdist workers, as scripts/test runs"])
def test_a_session_that_leaves_processes_running_fails_naming_and_stopping_each(checked: pytest.Pytester,
                                                                                 workers: tuple[str, ...]):
    checked.makepyfile(test_leaving=LEAVING)
    result = session(checked, *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=3)
    named = {int(pid): command for pid, command in re.findall(r"^pid (\d+) \((sleep 60\d)\)$", result.stdout.str(),
                                                              re.M)}
    assert sorted(named.values()) == ["sleep 601", "sleep 602", "sleep 603"]
    assert "3 processes outlived the tests that started them: the session fails" in result.stdout.str()
    assert [pid for pid in named if running(pid)] == []


def test_a_session_that_leaves_nothing_running_passes(checked: pytest.Pytester):
    checked.makepyfile(test_tidy=TIDY)
    result = session(checked)
    assert result.ret == pytest.ExitCode.OK
    assert "outlived" not in result.stdout.str()
