"""Upgrading: state made by an earlier release of the example fabric, then this release's program in its place.

Each earlier release's program is kept as released (`git archive v0.1.0
Pulumi.yaml __main__.py components config stacks`, likewise v0.2.0), so the test
needs no git history. The upgrade happens where a user's does: in the same directory, the
program files swapped, the stack files, state and rendered manifests kept, and
fabric.yaml edited as docs/upgrading.md says.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import PulumiProject, copy_program, point_at_venv, project

RELEASES = PROJECT_DIR / "tests" / "fixtures" / "releases"
STACKS = ("east", "west", "central")
PROGRAM = ("__main__.py", "components", "Pulumi.yaml")
# Steps that would touch a running cluster's objects: none may happen to what the old release made.
DISRUPTIVE = {"replace", "create-replacement", "delete-replaced", "delete", "create"}
# What this release adds to a ClusterLink stack, as docs/upgrading.md says: the cluster's own CA and the
# control plane's and data plane's certificates it signs (ClusterLink's second trust root).
CLUSTER_CERTIFICATES = {"cl-ca", "cl-controlplane-certificate", "cl-dataplane-certificate"}
# ... and the four certificate Secrets, whose contents change: the Kubernetes provider replaces a Secret whose
# data changes (deleting it first, its name being fixed) rather than updating it.
REPLACED_SECRETS = {"cl-ca", "cl-controlplane", "cl-dataplane", "cl-peer"}
REPLACEMENT = {"replace", "create-replacement", "delete-replaced"}
# docs/upgrading.md: a NodePort ingress's `port` is now the node port it pins (the Service keeps port 443).
MIGRATION = ("ingress: {type: NodePort, port: 443}", "ingress: {type: NodePort, port: 30443}")
# Release 0.1 wrapped each shared object in a component of its own (`clusterfabric:clusterlink:Export`...), release
# 0.2 declared the bare CR, this release wraps it again in the public component of its kind (issue 21), under the
# name release 0.1 gave it: nothing of release 0.1 goes, and its CRs move into the components by alias.


def released(directory: Path, release: str, stacks: tuple[str, ...] = STACKS,
             providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """The example fabric's `stacks` up (in run order) with the program of `release`, in `directory`. `providers`
    readies the project for the plugins its stacks need, each time a release's Pulumi.yaml is put in place."""
    with tarfile.open(RELEASES / f"{release}.tar.gz") as archive:
        archive.extractall(directory, filter="data")
    point_at_venv(directory / "Pulumi.yaml")
    proj = project(directory)
    providers(proj)
    for stack in stacks:
        proj.init_stack(stack)
        proj.up(stack)
    return proj


def swap_in_this_release(proj: PulumiProject, migration: tuple[str, str] | None = None,
                         providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """This release's program in place of a released one, stack files, state and rendered manifests kept, and
    fabric.yaml edited as docs/upgrading.md says (`migration`)."""
    directory = proj.directory
    for name in PROGRAM:
        path = directory / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    current = copy_program(directory.parent / "current")
    for name in PROGRAM:
        shutil.move(current / name, directory / name)
    providers(proj)
    if migration:
        fabric = directory / "config" / "fabric.yaml"
        assert migration[0] in fabric.read_text()
        fabric.write_text(fabric.read_text().replace(*migration))
    return proj


def upgrade(directory: Path, release: str, migration: tuple[str, str] | None = None, stacks: tuple[str, ...] = STACKS,
            providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """The example fabric's `stacks` up with `release`, then this release's program swapped in."""
    return swap_in_this_release(released(directory, release, stacks, providers), migration, providers)


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    """From release 0.1."""
    return upgrade(tmp_path_factory.mktemp("upgrade") / "project", "v0.1.0", MIGRATION)


@pytest.fixture(scope="module")
def upgraded_from_0_2(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    return upgrade(tmp_path_factory.mktemp("upgrade-0.2") / "project", "v0.2.0")


def preview_steps(proj: PulumiProject, stack: str) -> list[dict]:
    preview = json.loads(proj.pulumi("preview", "--json", "--stack", stack).stdout)
    return [{"op": s["op"], "urn": s["urn"]} for s in preview.get("steps", [])]


def resource_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def is_component(urn: str) -> bool:
    return resource_type(urn).startswith("clusterfabric:")


def provider_changes(steps: list[dict]) -> list[dict]:
    """The steps that would create, replace or delete a provider resource (not a component of this program)."""
    return [s for s in steps if s["op"] in DISRUPTIVE | REPLACEMENT and not is_component(s["urn"])]


def platform_name(urn: str, stack: str) -> str:
    return urn.rsplit("::", 1)[1].removeprefix(f"{stack}-clusterlink-platform-")


@pytest.mark.parametrize("stack", STACKS)
def test_the_new_program_creates_the_cluster_certificates_replaces_their_secrets_and_nothing_else(
        upgraded: PulumiProject, stack: str):
    steps = [s for s in preview_steps(upgraded, stack)
             if s["op"] in DISRUPTIVE | REPLACEMENT]
    created = {platform_name(s["urn"], stack) for s in steps if s["op"] == "create"
               and resource_type(s["urn"]) == "pulumi-python:dynamic:Resource"}
    replaced = {platform_name(s["urn"], stack) for s in steps if s["op"] == "replace"
                and resource_type(s["urn"]) == "kubernetes:core/v1:Secret"}
    assert (created, replaced) == (CLUSTER_CERTIFICATES, REPLACED_SECRETS)
    rest = [s for s in steps if not ((s["op"] == "create" and platform_name(s["urn"], stack) in created) or
                                     (s["op"] in REPLACEMENT and platform_name(s["urn"], stack) in replaced))]
    assert rest == []


@pytest.mark.parametrize("stack", STACKS)
def test_upgrading_from_0_1_deletes_nothing_its_per_object_components_are_this_releases(upgraded: PulumiProject,
                                                                                        stack: str):
    steps = preview_steps(upgraded, stack)
    assert [s for s in steps if s["op"] == "delete"] == []
    assert [s for s in steps if is_component(s["urn"])] == []  # the same components: neither created nor changed


def test_the_upgrade_up_keeps_every_resource_and_its_certificates(upgraded: PulumiProject):
    before = {s: upgraded.outputs(s) for s in STACKS}
    for stack in STACKS:
        upgraded.up(stack)
    after = {s: upgraded.outputs(s) for s in STACKS}
    # renderDirectory alone changes, on purpose: it is published relative to the project (no machine's path).
    for stack in STACKS:
        assert before[stack].pop("renderDirectory") == str(upgraded.directory / "rendered" / stack)
        assert after[stack].pop("renderDirectory") == f"rendered/{stack}"
    assert after == before  # the same CA, certificates and keys, ports and exports
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(upgraded, stack)} <= {"same", "read"}  # read: stack references



# Release 0.2 declared each shared object as its bare resource; this release wraps it in a component of its kind
# (issue 21). The components are new and own nothing of their own: the resources move into them by alias.


@pytest.mark.parametrize("stack", STACKS)
def test_upgrading_from_0_2_creates_replaces_or_deletes_no_resource_only_components(upgraded_from_0_2: PulumiProject,
                                                                                    stack: str):
    steps = preview_steps(upgraded_from_0_2, stack)
    assert provider_changes(steps) == []
    assert {s["op"] for s in steps if is_component(s["urn"])} <= {"create", "same"}


def test_the_upgrade_from_0_2_keeps_every_output_and_then_changes_nothing(upgraded_from_0_2: PulumiProject):
    before = {s: upgraded_from_0_2.outputs(s) for s in STACKS}
    for stack in STACKS:
        upgraded_from_0_2.up(stack)
    assert {s: upgraded_from_0_2.outputs(s) for s in STACKS} == before
    for stack in STACKS:
        assert {s["op"] for s in preview_steps(upgraded_from_0_2, stack)} <= {"same", "read"}
