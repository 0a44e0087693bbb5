"""The policy pack run for real: `pulumi preview --policy-pack policy/` passes a compliant stack, stops violations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import PulumiProject, point_at_venv, project

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

PACK = str(PROJECT_DIR / "policy")

VIOLATIONS = {
    "cluster-rbac": ("cluster-rbac-outside-platform", "ClusterRole reader (reader) grants rights across the cluster "
                     "outside the ClusterLink platform; use a namespaced Role and RoleBinding."),
    "plaintext-key": ("secrets-are-secret", "leaked: property data.key.pem holds a private key in plaintext; make it "
                      "a Pulumi secret (pulumi.Output.secret)."),
    "import-target-port": ("clusterlink-import-target-port", "Import shop/cart has targetPort 80, outside 1024-49151"),
    "shared-target-port": ("clusterlink-unique-target-ports", "Imports shop/cart and shop/orders share targetPort "
                           "20000; each needs its own data plane port."),
    "no-access-policy": ("clusterlink-access", "Export shop/cart has no AccessPolicy that can allow it: default deny "
                         "blocks every importer."),
    "public-export": ("exported-services-not-public", "Service shop/cart is exported and also a LoadBalancer, "
                      "reachable from outside the fabric."),
}


def test_compliant_example_stack_passes_the_pack(example: PulumiProject):
    result = example.pulumi("preview", "--stack", "central", "--policy-pack", PACK)
    assert "clusterfabric@v0.0.1" in result.stdout and "[mandatory]" not in result.stdout


@pytest.fixture(scope="module")
def violations(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    directory = tmp_path_factory.mktemp("violations") / "project"
    shutil.copytree(PROJECT_DIR / "tests" / "engine" / "projects" / "violations", directory)
    point_at_venv(directory / "Pulumi.yaml")
    return project(directory)


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_mandatory_violation_fails_the_preview_with_its_message(violations: PulumiProject, case: str):
    violations.init_stack(case)
    violations.pulumi("config", "set", "case", case, "--stack", case)
    result = violations.pulumi("preview", "--stack", case, "--policy-pack", PACK, check=False)
    policy, message = VIOLATIONS[case]
    assert result.returncode != 0
    assert f"[mandatory]  {policy}" in result.stdout, result.stdout
    assert message in " ".join(result.stdout.split()), result.stdout
    assert not (violations.directory / "rendered").exists()
