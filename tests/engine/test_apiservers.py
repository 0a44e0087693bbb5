"""The ClusterLink example fabric on real API servers: a kube-apiserver and etcd per cluster (no controllers).

The objects are stored, validated and admitted by Kubernetes itself, then read
back and compared with what each stack declared.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.local.apiserver import ControlPlane, default_crds, finalize_namespaces, start_all
from clusterfabric.local.kubeapi import KubeClient
from clusterfabric.local.readback import declared_objects
from tests.example_fabric import EXAMPLE_STACKS, on_servers, unchanged
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

BUILTIN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, ControlPlane]):
    fabric = on_servers(copy_program(tmp_path_factory.mktemp("fabric") / "project"), servers)
    return fabric, fabric.up(list(EXAMPLE_STACKS))


def client(servers: dict[str, ControlPlane], cluster: str) -> KubeClient:
    return servers[cluster].client()


def test_the_crds_are_installed_in_every_cluster_first(servers):
    for cluster in EXAMPLE_STACKS:
        kinds = {kind for (_, kind) in client(servers, cluster).resource_types()}
        assert {"Export", "Import", "Peer", "AccessPolicy", "HTTPRoute", "TLSRoute", "ServiceExport"} <= kinds


def test_clusterlink_fabric_comes_up_and_every_object_reads_back_as_declared(deployed):
    _, result = deployed
    assert [(s.stack, s.result) for s in result.stacks] == [(s, "succeeded") for s in EXAMPLE_STACKS]
    for stack in result.stacks:
        assert stack.read_back == []
        assert stack.message.startswith("read back ") and stack.message.endswith("objects from the API server: "
                                                                                  "as declared")
    assert result.stack("central").message == "read back 21 objects from the API server: as declared"


def test_the_importer_finds_its_import_and_peers_on_its_api_server(deployed, servers):
    central = client(servers, "central")
    reviews = central.read("clusterlink.net/v1alpha1", "Import", "reviews", "bookinfo")
    assert [s["peer"] for s in reviews["spec"]["sources"]] == ["east", "west"]
    assert reviews["spec"]["lbScheme"] == "round-robin"
    assert 1024 <= reviews["spec"]["targetPort"] <= 49151
    peer = central.read("clusterlink.net/v1alpha1", "Peer", "east", "clusterlink-system")
    assert peer["spec"]["gateways"] == [{"host": "clusterlink.east.example.com", "port": 443}]
    # The exporters' own servers hold no Import: each cluster has only its own objects.
    with pytest.raises(KeyError):
        client(servers, "east").read("clusterlink.net/v1alpha1", "Import", "reviews", "bookinfo")


def test_second_up_changes_nothing(deployed):
    fabric, _ = deployed
    again = fabric.up(list(EXAMPLE_STACKS))
    assert [(s.stack, s.result, set(s.changes)) for s in again.stacks] == [
        (stack, "succeeded", unchanged(stack)) for stack in EXAMPLE_STACKS]


def test_a_hand_made_change_is_found_by_refresh_and_undone_by_up(deployed, servers):
    fabric, _ = deployed
    west = client(servers, "west")
    path = west.path("apps/v1", "Deployment", "cl-dataplane", "clusterlink-system")
    west.request("PATCH", path, {"spec": {"replicas": 7}}, content_type="application/merge-patch+json")

    refreshed = fabric.refresh(["west"]).stack("west")
    assert refreshed.result == "succeeded" and refreshed.changes.get("update") == 1

    restored = fabric.up(["west"]).stack("west")
    assert restored.result == "succeeded" and restored.changes.get("update") == 1
    assert restored.read_back == []
    assert west.get(path)["spec"]["replicas"] == 2  # as fabric.yaml says for west


def test_an_object_the_api_server_rejects_is_reported_with_its_reason(tmp_path: Path, servers):
    # A node port outside the server's --service-node-port-range: only the cluster knows its range.
    project = copy_program(tmp_path / "project")
    services = project / "config" / "east" / "services.yaml"
    docs = list(yaml.safe_load_all(services.read_text()))
    docs.append({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "low-node-port", "namespace": "bookinfo"},
                 "spec": {"type": "NodePort", "selector": {"app": "x"},
                          "ports": [{"port": 80, "nodePort": 80}]}})
    services.write_text(yaml.safe_dump_all(docs))
    planes = {"east": ControlPlane("east", tmp_path / "planes" / "east")}
    start_all(planes, default_crds(), progress=lambda line: None)
    try:
        result = on_servers(project, planes).up(["east"]).stack("east")
    finally:
        planes["east"].stop()
    assert result.result == "failed"
    assert 'Service "low-node-port" is invalid' in result.message
    assert "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range" in result.message


def test_an_api_server_stopped_mid_up_then_restarted_lets_the_up_converge(tmp_path: Path):
    planes = {"east": ControlPlane("east", tmp_path / "planes" / "east")}
    start_all(planes, default_crds(), progress=lambda line: None)
    stopped = threading.Event()

    def stop_on_first_object(event) -> None:
        if event.kind == "step" and " kubernetes:" in event.message and not stopped.is_set():
            stopped.set()
            planes["east"].stop_apiserver()

    try:
        project = copy_program(tmp_path / "project")
        interrupted = on_servers(project, planes, on_event=stop_on_first_object).up(["east"]).stack("east")
        assert stopped.is_set() and interrupted.result == "failed"
        assert "connection refused" in interrupted.message

        planes["east"].start()  # the same etcd: whatever was stored before the outage is still there
        retried = on_servers(project, planes).up(["east"]).stack("east")
        assert retried.result == "succeeded", retried.message
        assert retried.read_back == []
        # Nothing twice, nothing left over: the namespaces hold exactly the declared objects. Events are not
        # objects anyone declares: the restarted API server's repair loops may record some about a Service.
        fabric = on_servers(project, planes)
        declared = declared_objects(fabric._stack("east").export_stack().deployment)
        east = planes["east"].client()
        for namespace in ("bookinfo", "clusterlink-system"):
            assert [o for o in east.namespace_objects(namespace) if not o.startswith("Event/")] == sorted(
                f"{o['kind']}/{o['metadata']['name']}" for o in declared
                if o["metadata"].get("namespace") == namespace)
    finally:
        planes["east"].stop()


def test_a_run_without_a_target_keeps_the_stack_on_its_api_server(deployed, servers):
    fabric, _ = deployed
    plain = Fabric("config", project_dir=fabric.project_dir)  # a forgotten flag moves nothing
    assert plain.preview(["east"]).stack("east").changes == {"same": 36}
    config = plain._stack("east").get_all_config()
    assert config["clusterfabric:kubeconfig"].value == str(fabric.targets["east"].kubeconfig.resolve())
    assert config["clusterfabric:awaitReadiness"].value == "false"


def test_destroy_leaves_nothing_behind(deployed, servers):
    fabric, _ = deployed
    declared = {s: declared_objects(fabric._stack(s).export_stack().deployment) for s in EXAMPLE_STACKS}
    result = fabric.destroy(list(EXAMPLE_STACKS))
    assert [(s.stack, s.result) for s in result.stacks] == [(s, "succeeded") for s in reversed(EXAMPLE_STACKS)]
    for cluster, objects in declared.items():
        api = client(servers, cluster)
        assert len(objects) >= 19
        assert [f"{o['kind']}/{o['metadata']['name']}" for o in objects if readable(api, o)] == []
        namespaces = {n["metadata"]["name"] for n in api.get("/api/v1/namespaces")["items"]}
        assert namespaces == BUILTIN_NAMESPACES


def readable(api: KubeClient, obj: dict) -> bool:
    meta = obj["metadata"]
    try:
        api.read(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
    except KeyError:
        return False
    return True


def terminating(api: KubeClient, namespace: str, *objects: dict) -> None:
    """`namespace` holding `objects`, then deleted: terminating, as the fabric's destroy leaves it."""
    api.request("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
    for obj in objects:
        api.request("POST", f"/api/v1/namespaces/{namespace}/{obj['kind'].lower()}s", in_namespace(obj, namespace))
    api.request("DELETE", f"/api/v1/namespaces/{namespace}")


def in_namespace(obj: dict, namespace: str) -> dict:
    obj = obj | {"metadata": obj["metadata"] | {"namespace": namespace}}
    if "involvedObject" in obj:
        obj["involvedObject"] = obj["involvedObject"] | {"namespace": namespace}
    return obj


# What the API server's NodePort repair loop records when it checks a Service being created or deleted.
REPAIR_EVENT = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "cl-controlplane.repair"},
                "involvedObject": {"kind": "Service", "name": "cl-controlplane"}, "reason": "PortNotAllocated",
                "message": "Port 30443 is not allocated; repairing", "type": "Warning"}


def test_a_destroyed_namespace_goes_though_the_api_server_recorded_events_in_it(servers):
    api = client(servers, "east")
    terminating(api, "repaired", REPAIR_EVENT)
    assert finalize_namespaces(api, ["repaired"]) == ["repaired"]
    with pytest.raises(KeyError):
        api.get("/api/v1/namespaces/repaired")


def test_a_destroyed_namespace_holding_objects_the_fabric_did_not_declare_is_left_terminating(servers):
    api = client(servers, "east")
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "someone-elses"}, "data": {"a": "b"}}
    terminating(api, "shared", other)
    assert finalize_namespaces(api, ["shared"]) == []
    assert api.get("/api/v1/namespaces/shared")["status"]["phase"] == "Terminating"
    assert api.namespace_objects("shared") == ["ConfigMap/someone-elses"]
