"""A shared backend as teams run it: the fabric's state in an S3 bucket (SeaweedFS, a real S3 server on loopback,
clusterfabric.local.objectstore), two working copies of the fabric as two CI machines, each running
`clusterfabric` as a process of its own.

The run, once for the module (each test reads what it did): copy A brings up east (the fabric CA's owner, which the
others read); then A brings up west while B brings up north, at the same time; then A brings west up again and,
while A holds west's lock (its Pulumi CLI paused, so that it holds it while the others start), B does too with the
default bound and C with a tiny one. Last, the checkpoints and histories are read, and each stack is previewed
from the copy that last brought it up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.local.objectstore import ObjectStore
from clusterfabric.toolchain import PROJECT_DIR, pulumi_command, pulumi_env
from tests.example_fabric import keep_clusters, unchanged
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine and a real object store

CLUSTERFABRIC = str(PROJECT_DIR / ".venv" / "bin" / "clusterfabric")
STACKS = ("east", "west", "north")
"""east owns the fabric CA; west and north read it and nothing else of each other: disjoint once east is up."""
TINY_LOCK_TIMEOUT = 2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    """One SeaweedFS for the module, stopped by PID at its end (also when a test failed)."""
    with ObjectStore(tmp_path_factory.mktemp("objectstore"), bucket="fabric") as started:
        yield started


def working_copy(directory: Path) -> Path:
    """A checkout of a fabric of three ClusterLink clusters: the example's east and west, and north, west's twin."""
    copy_program(directory)
    config = directory / "config"
    keep_clusters(config, ("east", "west"))
    spec = yaml.safe_load((config / "fabric.yaml").read_text())
    north = json.loads(json.dumps(spec["clusters"][1]).replace("west", "north").replace("30443", "30444"))
    spec["clusters"].append(north)
    (config / "fabric.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    shutil.copytree(config / "west", config / "north")
    return directory


class Runner:
    """`clusterfabric ARGS` started in a working copy, its output in files (read while it runs)."""

    def __init__(self, copy: Path, env: dict[str, str], *args: str):
        self.copy, self.args = copy, args
        self.log = copy / f"run-{time.monotonic_ns()}"
        self.started = time.monotonic()
        with open(f"{self.log}.out", "w") as out, open(f"{self.log}.err", "w") as err:
            self.process = subprocess.Popen([CLUSTERFABRIC, *args], cwd=copy, env=env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL)

    @property
    def stderr(self) -> str:
        return Path(f"{self.log}.err").read_text()

    def finish(self, timeout: float = 300) -> dict[str, Any]:
        try:
            code = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return {"args": self.args, "code": code, "stdout": Path(f"{self.log}.out").read_text(), "stderr": self.stderr,
                "started": self.started, "ended": time.monotonic()}


def rows(stdout: str) -> dict[str, list[str]]:
    """The final table's rows by stack: result, create, update, replace, delete, planned offline, duration."""
    return {cells[0]: cells[1:] for cells in (line.split() for line in stdout.splitlines())
            if len(cells) == 8 and cells[0] in STACKS}


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {what} after {timeout} s")


@pytest.fixture(scope="module")
def runs(store: ObjectStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("shared")
    copies = {name: working_copy(root / name) for name in ("a", "b", "c")}
    # What both CI machines are given: the bucket, its credentials, the one passphrase of the fabric's secrets.
    env = {**os.environ, **store.env(), "PULUMI_CONFIG_PASSPHRASE": "shared-fabric-passphrase"}
    done: dict[str, Any] = {"env": env, "copies": copies}
    started: list[Runner] = []

    def run(copy: str, *args: str) -> Runner:
        started.append(Runner(copies[copy], env, *args))
        return started[-1]

    try:
        done["east"] = run("a", "up", "--stack", "east").finish()
        apart = [run("a", "up", "--stack", "west"), run("b", "up", "--stack", "north")]
        done["disjoint"] = [r.finish() for r in apart]

        # A holds west's lock; its Pulumi CLI (the lock's pid) paused while B and C find the stack locked.
        holder = run("a", "up", "--stack", "west")
        lock = wait_for(lambda: store.keys(".pulumi/locks/organization/clusterfabric/west/"), 120, "lock on west")[0]
        done["lock"] = {"key": lock, **json.loads(store.read(lock))}
        os.kill(done["lock"]["pid"], signal.SIGSTOP)
        try:
            waiting = run("b", "up", "--stack", "west", "--lock-timeout", "120")
            done["refused"] = run("c", "up", "--stack", "west", "--lock-timeout", str(TINY_LOCK_TIMEOUT)).finish()
            # Until B says it waits (or ends: then the tests below say how it went).
            wait_for(lambda: "[west] waiting:" in waiting.stderr or waiting.process.poll() is not None, 120,
                     "wait in B's output")
        finally:
            os.kill(done["lock"]["pid"], signal.SIGCONT)
        done["holder"], done["waiting"] = holder.finish(), waiting.finish()
    finally:  # a run left by a failure is told to stop (it cancels its Pulumi CLI), then killed
        for runner in started:
            if runner.process.poll() is None:
                runner.process.terminate()
                runner.finish(timeout=60)
    yield done


def pulumi(env: dict[str, str], copy: Path, *args: str) -> str:
    full = pulumi_env(copy, base=env)
    return subprocess.run([pulumi_command(full), *args, "--non-interactive"], cwd=copy, env=full, check=True,
                          capture_output=True, text=True, timeout=120).stdout


def test_the_object_store_is_a_real_s3_server_holding_the_state(store, runs):
    assert store.backend_url().startswith("s3://fabric?endpoint=http%3A%2F%2F127.0.0.1%3A")
    assert {k.split("/")[-1] for k in store.keys(".pulumi/stacks/clusterfabric/")} >= {f"{s}.json" for s in STACKS}


def test_two_runners_bring_disjoint_stacks_up_at_the_same_time(runs):
    west, north = runs["disjoint"]
    assert [(r["code"], rows(r["stdout"])[stack][0]) for r, stack in ((west, "west"), (north, "north"))] == [
        (0, "succeeded"), (0, "succeeded")]
    assert north["started"] < west["ended"] and west["started"] < north["ended"]


def test_a_runner_finding_the_stack_locked_waits_then_runs(runs):
    waiting, lock = runs["waiting"], runs["lock"]
    assert (waiting["code"], rows(waiting["stdout"])["west"][0]) == (0, "succeeded")
    assert re.search(rf"\[west\] waiting: locked by another run: {lock['username']}@{lock['hostname']} "
                     rf"\(pid {lock['pid']}\) since \S+, lock s3://fabric/{re.escape(lock['key'])}\?", waiting["stderr"])


def test_the_holder_of_the_lock_is_not_disturbed(runs):
    assert (runs["holder"]["code"], rows(runs["holder"]["stdout"])["west"][0]) == (0, "succeeded")


def test_past_a_tiny_lock_timeout_the_runner_is_refused_naming_the_holder(runs):
    refused, lock = runs["refused"], runs["lock"]
    assert (refused["code"], rows(refused["stdout"])["west"][0]) == (1, "refused")
    message = refused["stdout"][refused["stdout"].index("west: stack west is locked"):]
    assert message.startswith(f"west: stack west is locked by another run: {lock['username']}@{lock['hostname']} "
                              f"(pid {lock['pid']}) since ")
    assert f"lock s3://fabric/{lock['key']}?" in message
    waited = re.search(rf"still locked after (\d+) s \(--lock-timeout {TINY_LOCK_TIMEOUT}\)", message)
    assert waited and int(waited[1]) >= TINY_LOCK_TIMEOUT, message
    assert "`pulumi cancel --yes --stack west`" in message


def test_every_checkpoint_is_valid_and_holds_no_pending_operation(runs):
    for stack in STACKS:
        deployment = json.loads(pulumi(runs["env"], runs["copies"]["b"], "stack", "export", "--stack", stack))
        assert (stack, deployment["version"], bool(deployment["deployment"]["resources"]),
                deployment["deployment"].get("pending_operations", [])) == (stack, 3, True, [])


def test_the_history_has_every_update_each_succeeded(runs):
    ups = {"east": 1, "west": 3, "north": 1}  # west: A's in the disjoint pair, then A's and B's around the lock
    for stack, count in ups.items():
        history = json.loads(pulumi(runs["env"], runs["copies"]["c"], "stack", "history", "--json", "--stack", stack))
        assert [(h["kind"], h["result"]) for h in history] == [("update", "succeeded")] * count


def test_a_third_run_changes_nothing(runs):
    # From the copy that last brought each stack up: the Kubernetes provider is given the rendered folder's absolute
    # path, so a checkout at another path would replace every object to write its files there (CI runners check
    # out at one path).
    copies = runs["copies"]
    results = [*Fabric("config", project_dir=copies["a"], env=pulumi_env(copies["a"], base=runs["env"])).preview(
        ["east"]).stacks, *Fabric("config", project_dir=copies["b"], env=pulumi_env(copies["b"], base=runs["env"])
                                  ).preview(["west", "north"]).stacks]
    assert [(s.stack, s.result, set(s.changes)) for s in results] == [
        (stack, "succeeded", unchanged(stack)) for stack in STACKS]
