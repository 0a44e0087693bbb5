"""An `up` interrupted part-way (SIGINT, then SIGKILL) is followed by an `up` that converges, losing nothing."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from clusterfabric import Fabric
from tests.leftover_processes import pointing_into, stop
from tests.pulumi_project import PulumiProject, copy_program, project, pulumi_command

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


@pytest.fixture()
def exporters_up(tmp_path: Path) -> Iterator[PulumiProject]:
    proj = project(copy_program(tmp_path / "project"))
    for stack in ("east", "west", "central"):
        proj.init_stack(stack)
    proj.up("east")
    proj.up("west")
    yield proj
    # A SIGKILL of a CLI's group leaves its plugins (each in a group of its own): whatever still runs in the project
    # or for it (its environment names the project's backend) is stopped by PID, also on failure.
    stop(pointing_into(proj.directory))


def interrupt_up(proj: PulumiProject, stack: str, sig: signal.Signals) -> int:
    """Start `up`, send `sig` once the first resource is being created, return the exit code."""
    run = subprocess.Popen([pulumi_command(proj.env), "up", "--yes", "--skip-preview", "--stack", stack,
                            "--non-interactive"], cwd=proj.directory, env=proj.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    for line in run.stdout:
        if "creating" in line:
            break
    run.send_signal(sig)
    run.communicate(timeout=300)
    return run.returncode


def converged(proj: PulumiProject, stack: str) -> None:
    """State and rendered files are those of an uninterrupted run: 26 resources, each rendered once."""
    proj.up(stack, "--expect-no-changes")
    state = json.loads(proj.pulumi("stack", "export", "--stack", stack).stdout)["deployment"]
    assert not state.get("pending_operations")
    urns = [r["urn"] for r in state["resources"]]
    assert len(urns) == len(set(urns))
    kubernetes = [r for r in state["resources"] if r["type"].startswith("kubernetes:") and r.get("custom")
                  and not r["type"].startswith("pulumi:providers")]
    files = sorted((proj.directory / "rendered" / stack / "1-manifest").glob("*.yaml"))  # the provider's, one each
    assert len(files) == len(kubernetes) == 21
    assert {(d["kind"], d["metadata"]["name"]) for d in (yaml.safe_load(f.read_text()) for f in files)} >= {
        ("Import", "reviews"), ("Peer", "east"), ("Peer", "west"), ("Deployment", "cl-dataplane")}


def test_up_interrupted_with_sigint_is_followed_by_an_up_that_converges(exporters_up: PulumiProject):
    interrupt_up(exporters_up, "central", signal.SIGINT)
    exporters_up.up("central")
    converged(exporters_up, "central")


def kill_up(proj: PulumiProject, stack: str, after_creating: int) -> bool:
    """Start `up` and SIGKILL its process group once it has begun creating `after_creating` resources, as a crash
    would: the CLI goes, its plugins (each in a group of its own) are left running. Whether the kill landed (the run
    had not finished)."""
    run = subprocess.Popen([pulumi_command(proj.env), "up", "--yes", "--skip-preview", "--stack", stack,
                            "--non-interactive"], cwd=proj.directory, env=proj.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)
    creating: set[str] = set()
    for line in run.stdout:
        # ` +  TYPE NAME creating (Ns) ...`: a resource begun, once per resource however many lines it prints.
        begun = re.match(r"\s*\+\s+(\S+ \S+) creating", line)
        creating |= {begun.group(1)} if begun else set()
        if len(creating) == after_creating:
            os.killpg(run.pid, signal.SIGKILL)
            break
    run.stdout.close()
    return run.wait() == -signal.SIGKILL


def recover(fabric: Fabric, proj: PulumiProject, stack: str) -> list[str]:
    """Run `up` through the fabric layer, doing what its messages advise, until it succeeds; the advice taken."""
    taken = []
    for _ in range(6):
        run = fabric.up([stack])
        result = run.stack(stack)
        for note in run.notes:  # plugins the kill left running: stopped as the note says
            pids = re.search(r"`kill ([0-9 ]+)`", note)
            taken.append("kill leftover plugins")
            for pid in pids.group(1).split():
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass
        restore = re.search(r"`(cp \S+ \S+) && (cp \S+ \S+)`", result.message)
        remove = re.search(r"`rm (\S+)`", result.message)
        if remove:  # an unreadable checkpoint stops everything else, even `cancel`: first
            taken.append("remove cut-short metadata")
            Path(remove.group(1)).unlink()
        elif restore:
            taken.append("restore backup")
            for command in restore.groups():
                shutil.copy(*command.split()[1:])
        elif "pulumi cancel" in result.message:  # then the lock
            taken.append("cancel")
            proj.pulumi("cancel", "--yes", "--stack", stack)
        elif "clusterfabric clear-pending" in result.message:
            taken.append("clear-pending")
            fabric.clear_pending(stack)
        elif result.ok:
            return taken
        else:
            raise AssertionError(f"failed with no advice to follow: {result.message}")
    raise AssertionError(f"not converged after following {taken}")


KILL_TRIALS = 6
CENTRAL_CREATES = 36  # the stack, 7 components, 28 resources (3 of them certificates, from the 29th on)


def test_up_killed_at_random_moments_converges_by_following_the_advice(exporters_up: PulumiProject):
    fabric = Fabric("config", project_dir=exporters_up.directory, policy_packs=[], env=exporters_up.env)
    moments = random.Random(3)  # moments 16, 35, 9, 24, 31, 5: early, late, and twice among the certificates
    landed = []
    for _ in range(KILL_TRIALS):
        # A moment in the run, counted in resources begun (all central creates), not in seconds: a loaded machine
        # is slower, not differently ordered.
        if kill_up(exporters_up, "central", after_creating=moments.randint(1, CENTRAL_CREATES)):
            landed.append(recover(fabric, exporters_up, "central"))
        else:
            recover(fabric, exporters_up, "central")
        converged(exporters_up, "central")
        exporters_up.pulumi("destroy", "--yes", "--skip-preview", "--stack", "central")
    # Each kill mid-run leaves the lock of a process that no longer exists, and the advice clears it.
    assert len(landed) >= KILL_TRIALS - 1 and all("cancel" in taken for taken in landed), landed
    # Following the advice stopped every plugin the kills left: none runs on.
    deadline = time.monotonic() + 10
    while (left := pointing_into(exporters_up.directory)) and time.monotonic() < deadline:
        time.sleep(0.2)  # the last ones told to stop may still be ending
    assert left == []


def test_a_checkpoint_cut_short_is_explained_with_how_to_put_the_previous_one_back(exporters_up: PulumiProject):
    fabric = Fabric("config", project_dir=exporters_up.directory, policy_packs=[])
    exporters_up.up("west", "--expect-no-changes")  # leaves a .bak of the same state
    checkpoint = fabric._checkpoint("west")
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])  # as a kill while saving would
    [west] = fabric.up(["west"]).stacks
    assert west.result == "failed"
    assert "failed to load checkpoint" in west.message
    assert f"`cp {checkpoint}.bak {checkpoint} && cp {checkpoint}.bak.attrs {checkpoint}.attrs`" in west.message
    shutil.copy(f"{checkpoint}.bak", checkpoint)
    shutil.copy(f"{checkpoint}.bak.attrs", f"{checkpoint}.attrs")
    exporters_up.up("west", "--expect-no-changes")


def test_a_metadata_file_cut_short_fails_only_its_stacks_preview_saying_how_to_remove_it(exporters_up: PulumiProject):
    fabric = Fabric("config", project_dir=exporters_up.directory, policy_packs=[])
    attrs = fabric._checkpoint("east").with_name("east.json.attrs")
    kept = attrs.read_bytes()
    attrs.write_bytes(b"")  # as a kill while the backend rewrote it in place
    try:
        [east] = fabric.preview(["east"]).stacks  # the certificates' expiry is not read from it again: no raise
    finally:
        attrs.write_bytes(kept)
    assert east.result == "failed"
    assert f"it holds no state: remove it, `rm {attrs}`, and run again" in east.message
