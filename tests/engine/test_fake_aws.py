"""The fake AWS provider plugin (tests/fake_aws) on the real Pulumi engine: a Python program declares Lattice
resources through pulumi_aws, the engine loads the fake as provider `aws` (the project's Pulumi.yaml names its
folder), and the Lattice fake behind it keeps one account's state in a JSON file every plugin process shares.
Then the example fabric's Lattice stacks (cluster1..cluster3), until now only planned under mocks, come up on the
engine in dependency order, reading each other through StackReferences."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import pytest

from clusterfabric.offline.lattice_fake import HANDLERS
from clusterfabric.offline.plan import plan
from clusterfabric.runner.processes import processes
from clusterfabric.toolchain import PROJECT_DIR, pulumi_command, pulumi_env
from tests.fake_aws import FOLDER
from tests.fake_aws.project import destroy_in_reverse, expect_no_changes, fabric_on_fake_aws, lattice_program
from tests.fake_aws.provider import FakeAws
from tests.pulumi_project import PulumiProject, project

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

LATTICE_ARN = r"arn:aws:vpc-lattice:us-west-2:111122223333:"


def records(state: Path) -> list[tuple[str, str, str]]:
    """What the fake account holds: (kind, name, stack) of each resource."""
    regions = json.loads(state.read_text())["regions"]
    return sorted((r["kind"], r["name"], r["stack"]) for region in regions for r in region["records"])


def plugin_processes(directory: Path) -> list[str]:
    """The fake plugin's processes still running in the project at `directory`."""
    def cwd(pid: int) -> str:
        try:
            return os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return ""
    return [str(p) for p in processes() if "tests.fake_aws.provider" in p.command and cwd(p.pid) == str(directory)]


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake AWS account's state file, with the first stack's resources created in it."""
    directory = tmp_path_factory.mktemp("fake-aws")
    state = directory / "aws.json"
    first = lattice_program(directory / "first", state, "first")
    first.up("first")
    return state


def test_up_creates_the_lattice_resources_in_the_fake_account(account: Path):
    assert records(account) == [("Listener", "checkout-default-80-http", "first"),
                                ("Service", "checkout-default", "first"),
                                ("ServiceNetwork", "fabric-network", "first"),
                                ("TargetGroup", "k8s-checkout-default-80-http", "first")]


def test_the_stack_outputs_hold_arns_shaped_as_aws_gives_them(account: Path):
    outputs = project(account.parent / "first").outputs("first")
    assert re.fullmatch(LATTICE_ARN + r"servicenetwork/sn-[0-9a-z]{17}", outputs["networkArn"])
    assert re.fullmatch(LATTICE_ARN + r"service/svc-[0-9a-z]{17}", outputs["serviceArn"])
    assert re.fullmatch(LATTICE_ARN + r"targetgroup/tg-[0-9a-z]{17}", outputs["targetGroupArn"])
    assert re.fullmatch(re.escape(outputs["serviceArn"]) + r"/listener/listener-[0-9a-z]{17}", outputs["listenerArn"])


def test_a_second_stack_naming_its_service_network_as_the_first_is_refused_with_a_conflict(account: Path):
    second = lattice_program(account.parent / "second", account, "second", networkOnly="true")
    result = second.pulumi("up", "--yes", "--skip-preview", "--stack", "second", check=False)
    assert result.returncode != 0
    assert ("creating ServiceNetwork (network): operation error VPC Lattice: CreateServiceNetwork, https response "
            "error StatusCode: 409") in result.stdout
    assert ("ConflictException: a ServiceNetwork named 'fabric-network' already exists in this account and Region: "
            "network of stack first") in result.stdout
    assert ("ServiceNetwork", "fabric-network", "second") not in records(account)


def test_no_plugin_process_is_left_after_a_run(account: Path):
    assert plugin_processes(account.parent / "first") == []


def test_destroy_deletes_the_resources_from_the_fake_account(tmp_path: Path):
    state = tmp_path / "aws.json"
    proj = lattice_program(tmp_path / "program", state, "dev")
    proj.up("dev")
    assert len(records(state)) == 4
    proj.pulumi("destroy", "--yes", "--stack", "dev")
    assert records(state) == []


def test_the_projects_own_runs_never_find_the_fake():
    """The fabric layer plans a Lattice stack offline when `pulumi plugin ls` has no aws: a fake found there or on
    PATH would pass for real AWS."""
    env = pulumi_env(PROJECT_DIR)
    assert shutil.which("pulumi-resource-aws", path=env["PATH"]) is None
    listed = subprocess.run([pulumi_command(env), "plugin", "ls", "--json"], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=120, check=True).stdout
    assert "aws" not in {plugin["name"] for plugin in json.loads(listed)}


def test_the_plugin_refuses_to_start_without_a_state_file():
    env = {k: v for k, v in os.environ.items() if k != "CLUSTERFABRIC_FAKE_AWS_STATE"}
    result = subprocess.run([str(FOLDER / "pulumi-resource-aws"), "127.0.0.1:1"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert "set CLUSTERFABRIC_FAKE_AWS_STATE to the JSON file" in result.stderr


class Aborted(Exception):
    pass


class Context:
    """What a gRPC servicer gets: here, abort raises with the status and message."""

    def abort(self, code: grpc.StatusCode, message: str):
        raise Aborted(code, message)


def test_a_resource_type_the_fake_does_not_know_is_a_clear_error(tmp_path: Path):
    from pulumi.runtime.proto import provider_pb2

    request = provider_pb2.CheckRequest(urn="urn:pulumi:dev::p::aws:s3/bucketV2:BucketV2::logs")
    with pytest.raises(Aborted) as refused:
        FakeAws(tmp_path / "aws.json").Check(request, Context())
    code, message = refused.value.args
    assert code == grpc.StatusCode.UNIMPLEMENTED
    assert message.startswith("the fake AWS provider (tests/fake_aws) has no resource type aws:s3/bucketV2:BucketV2; "
                              "it fakes only aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment, ")


# --- the example fabric's Lattice stacks, on the engine ------------------------------------------------------------

ENGINE_BOOKKEEPING = {"pulumi:pulumi:Stack", "pulumi:pulumi:StackReference", "pulumi:providers:pulumi"}
"""What the engine's state holds and the offline plan's mocks never see: the stack, and the references it reads."""


@pytest.fixture(scope="module")
def lattice_fabric(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, list[str], Path]:
    """The example program, its Lattice stacks up in dependency order against one fake account that starts as the
    offline plan's does (the quotas fabric.yaml says AWS raised, the target groups outside the fabric)."""
    return fabric_on_fake_aws(tmp_path_factory.mktemp("lattice") / "program")


@pytest.fixture(scope="module")
def offline(lattice_fabric) -> dict[str, Any]:
    """The offline plan of the same stacks: what each declares, evaluated under mocks."""
    proj, stacks, _state = lattice_fabric
    return plan(proj.directory, proj.directory / "config", stacks)["stacks"]


def test_the_example_lattice_stacks_come_up_with_the_resources_the_offline_plan_declares(lattice_fabric, offline):
    proj, stacks, _state = lattice_fabric
    for stack in stacks:
        deployed = json.loads(proj.pulumi("stack", "export", "--stack", stack).stdout)["deployment"]["resources"]
        assert (Counter(r["type"] for r in deployed if r["type"] not in ENGINE_BOOKKEEPING)
                == Counter(r["type"] for r in offline[stack]["resources"])), stack


def test_the_fake_account_holds_each_example_lattice_stacks_aws_resources(lattice_fabric, offline):
    _proj, stacks, state = lattice_fabric
    held = Counter(stack for _kind, _name, stack in records(state))
    assert held == {stack: sum(r["type"] in HANDLERS for r in offline[stack]["resources"]) for stack in stacks}


def test_a_second_up_of_the_example_lattice_stacks_changes_nothing(lattice_fabric):
    proj, stacks, _state = lattice_fabric
    expect_no_changes(proj, stacks)


# These two run last, in this order: they take the module's fabric down.

def test_destroying_cluster1_while_the_other_stacks_use_its_network_is_refused_with_a_conflict(lattice_fabric):
    proj, _stacks, state = lattice_fabric
    result = proj.pulumi("destroy", "--yes", "--stack", "cluster1", check=False)
    assert result.returncode != 0
    assert "operation error VPC Lattice: DeleteServiceNetwork, https response error StatusCode: 409" in result.stdout
    assert re.search(r"ConflictException: ServiceNetwork sn-[0-9a-z]{17} \(fabric-network\) is in use: VpcAssociation "
                     r"snva-[0-9a-z]{17} \(cluster2-lattice-fabric-network-vpc of stack cluster2\)", result.stdout)
    assert ("ServiceNetwork", "fabric-network", "cluster1") in records(state)


def test_destroying_the_example_lattice_stacks_in_reverse_order_empties_the_fake_account(lattice_fabric):
    proj, stacks, state = lattice_fabric
    destroy_in_reverse(proj, stacks)
    assert records(state) == []
