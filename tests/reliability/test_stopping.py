"""A fabric run told to stop ends every process it started; one killed outright leaves plugins the next run names."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusterfabric import Fabric
from clusterfabric.runner.processes import descendants, leftover_plugins
from tests.leftover_processes import pointing_into, stop
from tests.pulumi_project import copy_program, project, pulumi_command

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

# A fabric run as the CLI makes it: inside stopped_on_signals, progress on stdout.
RUNNER = """
import sys
from clusterfabric import Fabric
from clusterfabric.runner.processes import stopped_on_signals
with stopped_on_signals(grace=30, on_stop=lambda line: print(line, flush=True)):
    Fabric("config", project_dir=sys.argv[1], on_event=lambda e: print(e.stack, e.kind, e.message, flush=True)).up(["east"])
print("finished", flush=True)
"""


def started_creating(run: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    for line in run.stdout:
        if " step + " in line or time.monotonic() > deadline:  # a create step (clusterfabric/runner/changes.py)
            return


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_run_told_to_stop_ends_every_process_it_started(tmp_path: Path, sig: signal.Signals):
    directory = copy_program(tmp_path / "project").resolve()
    run = subprocess.Popen([sys.executable, "-c", RUNNER, str(directory)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        started_creating(run)
        assert descendants(run.pid), "the run had started no Pulumi CLI"
        run.send_signal(sig)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 128 + sig, output
    assert f"{sig.name}: stopped" in output
    # Cancelled part-way, not left to finish on its own after the run was gone.
    assert "east finished failed" in output and "east finished succeeded" not in output, output
    assert pointing_into(directory) == [], "processes left running in or for the project"


def test_plugins_a_killed_run_left_behind_are_named_by_the_next_run(tmp_path: Path):
    proj = project(copy_program(tmp_path / "project"))
    directory = proj.directory.resolve()
    proj.init_stack("east")
    run = subprocess.Popen([pulumi_command(proj.env), "up", "--yes", "--skip-preview", "--stack", "east",
                            "--non-interactive"], cwd=directory, env=proj.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in run.stdout:
        if "creating" in line:
            break
    os.killpg(run.pid, signal.SIGKILL)  # a crash: the CLI's whole group, as the issue did
    run.wait()
    left = leftover_plugins(directory)
    try:
        assert left, "the kill left no plugin behind: nothing to find"
        result = Fabric("config", project_dir=directory, env=proj.env).preview(["east"])
        assert len(result.notes) == 1
        assert f"pid {left[0].pid}" in result.notes[0] and "kill" in result.notes[0]
    finally:
        stop(pointing_into(directory))  # what the kill left, by PID, also on failure
