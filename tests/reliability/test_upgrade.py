"""Upgrading: state made by an earlier release of the example fabric, then this release's program in its place
(tests/releases.py: where and how a user upgrades)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clusterfabric.components.contract import IMPORTED_EXPORTS_OUTPUT
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.removal import imported_exports
from clusterfabric.toolchain import PROJECT_DIR
from tests.example_fabric import EXAMPLE_STACKS
from tests.pulumi_project import PulumiProject
from tests.releases import (DISRUPTIVE, MIGRATION, REPLACEMENT, is_component, preview_steps, previews, provider_changes,
                            resource_type, upgrade)

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

# What this release adds to a ClusterLink stack, as docs/upgrading.md says: the cluster's own CA and the
# control plane's and data plane's certificates it signs (ClusterLink's second trust root).
CLUSTER_CERTIFICATES = {"cl-ca", "cl-controlplane-certificate", "cl-dataplane-certificate"}
# ... and the four certificate Secrets, whose contents change: the Kubernetes provider replaces a Secret whose
# data changes (deleting it first, its name being fixed) rather than updating it.
REPLACED_SECRETS = {"cl-ca", "cl-controlplane", "cl-dataplane", "cl-peer"}
# Release 0.1 wrapped each shared object in a component of its own (`clusterfabric:clusterlink:Export`...), release
# 0.2 declared the bare CR, this release wraps it again in the public component of its kind (issue 21), under the
# name release 0.1 gave it: nothing of release 0.1 goes, and its CRs move into the components by alias.


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    """From release 0.1."""
    return upgrade(tmp_path_factory.mktemp("upgrade") / "project", "v0.1.0", MIGRATION)


@pytest.fixture(scope="module")
def upgraded_from_0_2(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    return upgrade(tmp_path_factory.mktemp("upgrade-0.2") / "project", "v0.2.0")


@pytest.fixture(scope="module")
def upgrade_preview(upgraded: PulumiProject) -> Callable[[str], list[dict]]:
    """Each stack's preview of the upgrade from release 0.1, before anything is brought up."""
    return previews(upgraded)


def platform_name(urn: str, stack: str) -> str:
    return urn.rsplit("::", 1)[1].removeprefix(f"{stack}-clusterlink-platform-")


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_new_program_creates_the_cluster_certificates_replaces_their_secrets_and_nothing_else(
        upgrade_preview, stack: str):
    steps = [s for s in upgrade_preview(stack) if s["op"] in DISRUPTIVE | REPLACEMENT]
    created = {platform_name(s["urn"], stack) for s in steps if s["op"] == "create"
               and resource_type(s["urn"]) == "pulumi-python:dynamic:Resource"}
    replaced = {platform_name(s["urn"], stack) for s in steps if s["op"] == "replace"
                and resource_type(s["urn"]) == "kubernetes:core/v1:Secret"}
    assert (created, replaced) == (CLUSTER_CERTIFICATES, REPLACED_SECRETS)
    rest = [s for s in steps if not ((s["op"] == "create" and platform_name(s["urn"], stack) in created) or
                                     (s["op"] in REPLACEMENT and platform_name(s["urn"], stack) in replaced))]
    assert rest == []


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_upgrading_from_0_1_deletes_nothing_its_per_object_components_are_this_releases(upgrade_preview, stack: str):
    steps = upgrade_preview(stack)
    assert [s for s in steps if s["op"] == "delete"] == []
    assert [s for s in steps if is_component(s["urn"])] == []  # the same components: neither created nor changed


# Outputs this release adds to every ClusterLink stack (issue 28): its certificates' notAfter dates, so the fabric
# layer warns before one expires, and the rotation state they are at (never rotated, after an upgrade).
EXAMPLE = load_fabric(PROJECT_DIR / "config")
"""The example fabric the releases deployed: what its stacks import from whom is this release's new output."""
NEVER_ROTATED = {"generation": 0, "phase": None, "renewals": {}}


def without_new_outputs(outputs: dict) -> dict:
    """`outputs` without those this release adds, which must be there."""
    assert outputs.pop("certificateRotation") == NEVER_ROTATED
    assert {"cl-ca", "cl-controlplane", "cl-dataplane"} <= set(outputs.pop("certificateExpiry"))
    assert outputs.pop(IMPORTED_EXPORTS_OUTPUT) == imported_exports(EXAMPLE, outputs["cluster"])
    return outputs


def test_the_upgrade_up_keeps_every_resource_and_its_certificates(upgraded: PulumiProject):
    before = {s: upgraded.outputs(s) for s in EXAMPLE_STACKS}
    for stack in EXAMPLE_STACKS:
        upgraded.up(stack)
    after = {s: without_new_outputs(upgraded.outputs(s)) for s in EXAMPLE_STACKS}
    # renderDirectory alone changes, on purpose: it is published relative to the project (no machine's path).
    for stack in EXAMPLE_STACKS:
        assert before[stack].pop("renderDirectory") == str(upgraded.directory / "rendered" / stack)
        assert after[stack].pop("renderDirectory") == f"rendered/{stack}"
    assert after == before  # the same CA, certificates and keys, ports and exports
    for stack in EXAMPLE_STACKS:
        assert {s["op"] for s in preview_steps(upgraded, stack)} <= {"same", "read"}  # read: stack references



# Release 0.2 declared each shared object as its bare resource; this release wraps it in a component of its kind
# (issue 21). The components are new and own nothing of their own: the resources move into them by alias.


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_upgrading_from_0_2_creates_replaces_or_deletes_no_resource_only_components(upgraded_from_0_2: PulumiProject,
                                                                                    stack: str):
    steps = preview_steps(upgraded_from_0_2, stack)
    assert provider_changes(steps) == []
    assert {s["op"] for s in steps if is_component(s["urn"])} <= {"create", "same"}


def test_the_upgrade_from_0_2_keeps_every_output_and_then_changes_nothing(upgraded_from_0_2: PulumiProject):
    before = {s: upgraded_from_0_2.outputs(s) for s in EXAMPLE_STACKS}
    for stack in EXAMPLE_STACKS:
        upgraded_from_0_2.up(stack)
    assert {s: without_new_outputs(upgraded_from_0_2.outputs(s)) for s in EXAMPLE_STACKS} == before
    for stack in EXAMPLE_STACKS:
        assert {s["op"] for s in preview_steps(upgraded_from_0_2, stack)} <= {"same", "read"}
