"""The upgrade of a fabric whose stacks an earlier release kept in the checkout's project (it did so for every
fabric, wherever its directory was): `clusterfabric init DIR` moves them into the fabric's own project, all or
none, and nothing is replaced (clusterfabric/runner/stack_move.py).

Once for the module: the seeds' iperf3 fabric (server, client) up as the earlier release ran it, its stacks in a
copy of the checkout's project; a move refused half-way (the fabric's project already has a settings file for
`server`); then the move.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from clusterfabric import Fabric
from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import copy_program, project

pytestmark = pytest.mark.slow  # the real engine

STACKS = ("server", "client")


def init(fabric: Path, old: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clusterfabric", "init", str(fabric), "--move-stacks-from", str(old)],
                          cwd=fabric.parent, capture_output=True, text=True, timeout=600)


def stack_names(directory: Path) -> set[str]:
    listed = project(directory).pulumi("stack", "ls", "--json").stdout
    return {s["name"] for s in json.loads(listed)}


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("move")
    old = copy_program(work / "checkout")
    fabric = work / "iperf3"
    shutil.copytree(PROJECT_DIR / "examples" / "iperf3", fabric)
    up = Fabric(fabric, project_dir=old).up()  # the earlier release: every fabric's stacks in its own project
    assert [s.result for s in up.stacks] == ["succeeded", "succeeded"], up.stacks
    before = {s: project(old).outputs(s) for s in STACKS}
    result: dict[str, Any] = {"old": old, "fabric": fabric, "before": before,
                              "preview before": Fabric(fabric, project_dir=old).preview()}

    # Half-way: client moves first (sorted), then server's settings file is in the way.
    (fabric / "Pulumi.server.yaml").write_text("config: {}\n")
    result["refused"] = init(fabric, old)
    result["after the refusal"] = {"old": stack_names(old), "new": stack_names(fabric),
                                   "new settings": sorted(p.name for p in fabric.glob("Pulumi.*.yaml"))}
    (fabric / "Pulumi.server.yaml").unlink()

    result["move"] = init(fabric, old)
    result["old stacks"] = stack_names(old)
    result["old settings"] = sorted(p.name for p in (old / "stacks").glob("Pulumi.*.yaml"))
    result["preview"] = Fabric(fabric).preview()
    result["after"] = {s: project(fabric).outputs(s) for s in STACKS}
    return result


def test_a_move_refused_half_way_leaves_every_stack_where_it_was(moved):
    refused = moved["refused"]
    assert refused.returncode == 1
    assert f"server: the fabric's project {moved['fabric']} has a stack server already" in refused.stderr
    assert moved["after the refusal"] == {"old": set(STACKS), "new": set(), "new settings": ["Pulumi.server.yaml"]}


def test_the_stacks_move_into_the_fabrics_own_project(moved):
    assert moved["move"].returncode == 0, moved["move"].stderr
    assert "moving 2 stacks of this fabric from" in moved["move"].stderr
    assert stack_names(moved["fabric"]) == set(STACKS)
    assert (moved["old stacks"], moved["old settings"]) == (set(), [])
    for stack in STACKS:
        assert (moved["fabric"] / "rendered" / stack / "kustomization.yaml").is_file()
        assert not (moved["old"] / "rendered" / stack).exists()


def test_the_preview_after_the_move_is_the_one_before_it(moved):
    def changes(preview):
        return [(s.stack, s.result, s.changes) for s in preview.stacks]

    # Nothing to create, replace or delete; server, the CA owner, reads its own outputs as after any first up.
    assert changes(moved["preview"]) == changes(moved["preview before"]) == [
        ("server", "succeeded", {"same": 29, "read": 1}), ("client", "succeeded", {"same": 26})]


def test_every_output_stays(moved):
    assert moved["after"] == moved["before"]  # certificates and keys included: the same passphrase opens them
