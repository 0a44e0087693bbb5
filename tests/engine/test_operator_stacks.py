"""The Stacks `clusterfabric graph --format operator` emits, as the Pulumi Kubernetes Operator's own CRD
(clusterfabric/crds/pulumi-kubernetes-operator, v2.9.0) has a real API server validate them: no operator runs,
so this checks what the operator would be given, not what it does with it."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any, Iterator

import pytest
import yaml

from clusterfabric.gitops.rendered import CRD_DIR
from clusterfabric.local.kubeapi import KubeClient, KubeError
from clusterfabric.toolchain import PROJECT_DIR
from tests.engine.conftest import local_control_planes

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

NAMESPACE = "fabric"
STRICT = {"fieldValidation": "Strict", "fieldManager": "clusterfabric"}
"""Refuse unknown fields instead of pruning them, so a field the CRD does not have fails the test."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeClient]:
    with local_control_planes(tmp_path_factory.mktemp("apiserver"), ["operator"],
                              crds=CRD_DIR / "pulumi-kubernetes-operator") as planes:
        client = planes["operator"].client()
        client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        yield client


@pytest.fixture(scope="module")
def emitted() -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "clusterfabric", "graph", "--format", "operator",
                           "--repo", "https://github.com/example/platform-fabric.git", "--backend", "s3://fabric-state",
                           "--namespace", NAMESPACE], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def create(server: KubeClient, stack: dict[str, Any]) -> dict[str, Any]:
    return server.request("POST", server.path("pulumi.com/v1", "Stack", namespace=NAMESPACE), stack, query=STRICT)


def test_the_example_fabrics_stacks_are_accepted_with_their_prerequisites(server, emitted):
    for stack in emitted:
        create(server, stack)
    stored = {s["metadata"]["name"]: s["spec"] for s in server.get(
        server.path("pulumi.com/v1", "Stack", namespace=NAMESPACE))["items"]}
    assert {name: [p["name"] for p in spec.get("prerequisites", [])] for name, spec in stored.items()} == {
        "east": [], "cluster1": [], "west": ["east"], "cluster2": ["cluster1"], "central": ["east", "west"],
        "cluster3": ["cluster1", "cluster2"]}
    assert stored["central"] == next(s["spec"] for s in emitted if s["metadata"]["name"] == "central")  # as sent


def test_a_prerequisite_without_a_name_is_refused_by_the_crds_schema(server, emitted):
    stack = copy.deepcopy(emitted[-1])
    stack["metadata"]["name"] = "unnamed-prerequisite"
    stack["spec"]["prerequisites"] = [{"requirement": {"succeededWithinDuration": "1h"}}]
    with pytest.raises(KubeError) as refused:
        create(server, stack)
    assert refused.value.status == 422
    assert "spec.prerequisites[0].name: Required value" in str(refused.value)
