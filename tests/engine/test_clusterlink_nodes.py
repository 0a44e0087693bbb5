"""ClusterLink's iperf3 example on local clusters with real nodes: the platform as rendered, run by a real kubelet.

examples/iperf3 goes up on two single-node clusters (clusterfabric/local/nodes.py: kubelet, containerd and runc,
kube-proxy, CoreDNS, each cluster in a network namespace of its own, images made from local binaries). The
platform's Deployments, probes, mounts, RBAC and Services are exactly what the program renders: a wrong probe
port keeps a Deployment unavailable, a wrong mount path makes its pod fail, and the run stops saying so. iperf3's
server and client are pods; the client dials the Import's Service by its DNS name, through kube-proxy, to the
importing data plane, which crosses to the other cluster's gateway (its LoadBalancer address; see nodes.py).

The two clusters are started as a user starts them, `clusterfabric apiservers start --nodes` then `clusterfabric up
--apiservers` (each its own process), so these tests check the CLI's clusters; they are shared by the module's tests,
and the last test stops them with `clusterfabric apiservers stop` and asserts nothing is left.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusterfabric import Fabric
from clusterfabric.components.clusterlink.certificates import issue
from clusterfabric.local.iperf3 import EXAMPLE, Transfer
from clusterfabric.local.nodefabric import (NodeRun, iperf3_client, node_clusters, pod_log, project_fabric, serve,
                                            wait_deployments, wait_platforms)
from clusterfabric.local.nodes import leftovers
from clusterfabric.toolchain import copy_program
from tests.fabric_edits import allow_only, deployed_edit, edit, up

pytestmark = pytest.mark.slow  # real nodes: kubelet, containerd, the engine

IMPORT = ("iperf3-server", 5000)
CR = "clusterlink.net/v1alpha1"


def cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    """`clusterfabric ARGS --fabric project/config`, as a user runs it (its own process, the project's backend)."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    return subprocess.run([sys.executable, "-m", "clusterfabric", *args, "--fabric", str(project / "config")],
                          capture_output=True, text=True, env=env, timeout=900)


class Clusters:
    """The module's clusters, as a user starts them: `clusterfabric apiservers start --nodes`, then
    `clusterfabric up --apiservers` (each its own process; the clusters outlive it, found again by their state
    files); stopped by `close` through `clusterfabric apiservers stop` (the last test, or the fixture's end)."""

    def __init__(self, directory: Path):
        self.project = copy_program(directory / "project")
        shutil.rmtree(self.project / "config")  # the project's fabric folder (README: this repository's layout)
        shutil.copytree(EXAMPLE, self.project / "config")
        model = Fabric(self.project / "config", project_dir=self.project).load()
        self.nodes = node_clusters(model, self.project / ".apiservers")
        self.run = NodeRun(project_fabric(self.project, folder="config"), self.nodes)
        self.stopped: subprocess.CompletedProcess | None = None

    def start(self) -> None:
        for step in (("apiservers", "start", "--nodes"), ("up", "--apiservers")):
            done = cli(self.project, *step)
            assert done.returncode == 0, f"clusterfabric {' '.join(step)}:\n{done.stdout}\n{done.stderr}"
        wait_platforms(self.run)

    def close(self) -> list[str]:
        """`clusterfabric apiservers stop`; what it said it could not remove, and its exit status if not 0."""
        if self.stopped is None:
            self.stopped = cli(self.project, "apiservers", "stop")
        said = [line for line in self.stopped.stderr.splitlines() if "not removed" in line]
        return said + ([f"exit status {self.stopped.returncode}: {self.stopped.stderr[-2000:]}"]
                       if self.stopped.returncode else [])


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory):
    started = Clusters(tmp_path_factory.mktemp("nodes"))
    try:
        started.start()
        serve(started.run)
        yield started
    finally:
        started.close()


@pytest.fixture()
def run(clusters) -> NodeRun:
    return clusters.run


def through_the_import(run: NodeRun, seconds: int = 2, **kwargs) -> Transfer:
    """iperf3 from a pod of the client cluster to the Import's Service, by its DNS name."""
    return iperf3_client(run, *IMPORT, seconds, **kwargs)


def refused(run: NodeRun, within: float = 40.0, **kwargs) -> bool:
    """Whether the client's connections are refused, tried until `within` seconds pass (policies and Exports reach
    the control planes by watch, a moment after `up`)."""
    deadline = time.monotonic() + within
    while not through_the_import(run, 1, **kwargs).refused:
        if time.monotonic() > deadline:
            return False
    return True


def controlplane_log(run: NodeRun, cluster: str) -> str:
    client = run.client(cluster)
    namespace = run.namespace(cluster)
    pods = client.request("GET", f"/api/v1/namespaces/{namespace}/pods",
                          query={"labelSelector": "app=cl-controlplane"})["items"]
    return "".join(pod_log(client, namespace, p["metadata"]["name"]) for p in pods)


def test_the_platform_deployments_are_available_under_a_real_kubelet(run):
    for cluster in ("server", "client"):
        deployments = run.client(cluster).get(f"/apis/apps/v1/namespaces/{run.namespace(cluster)}/deployments")
        assert {d["metadata"]["name"]: d["status"].get("availableReplicas") for d in deployments["items"]} == {
            "cl-controlplane": 1, "cl-dataplane": 1}


def test_the_cli_deployed_to_them_as_to_clusters_with_controllers(run):
    """`up --apiservers` on clusters with nodes awaits readiness (no skipAwait: the provider waited for the
    Deployments and for the gateway's load balancer address, which the node's load balancer process published)."""
    for cluster in ("server", "client"):
        deployment = run.client(cluster).get(f"/apis/apps/v1/namespaces/{run.namespace(cluster)}/deployments/"
                                             "cl-controlplane")
        assert "pulumi.com/skipAwait" not in deployment["metadata"].get("annotations", {})


def test_no_platform_container_has_restarted(run):
    for cluster in ("server", "client"):
        pods = run.client(cluster).get(f"/api/v1/namespaces/{run.namespace(cluster)}/pods")["items"]
        assert {s["name"]: s["restartCount"] for p in pods for s in p["status"]["containerStatuses"]} == {
            "cl-controlplane": 0, "dataplane": 0}


def conditions(obj: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}


def test_the_export_is_valid_in_the_exporting_cluster(run):
    export = run.client("server").get(f"/apis/{CR}/namespaces/default/exports/iperf3-server")
    assert conditions(export) == {"ExportValid": "True"}


def test_the_import_is_valid_and_its_services_lead_to_its_target_port(run):
    client = run.client("client")
    imported = client.get(f"/apis/{CR}/namespaces/default/imports/iperf3-server")
    assert conditions(imported) == {"ImportTargetPortValid": "True", "ImportServiceValid": "True"}
    services = client.request("GET", "/api/v1/services",
                              query={"labelSelector": "app.kubernetes.io/managed-by=clusterlink.net"})["items"]
    assert sorted((s["metadata"]["namespace"], s["spec"]["type"]) for s in services) == [
        ("clusterlink-system", "ClusterIP"), ("default", "ExternalName")]
    inner = next(s for s in services if s["spec"]["type"] == "ClusterIP")
    assert inner["spec"]["selector"] == {"app": "cl-dataplane"}
    assert [p["targetPort"] for p in inner["spec"]["ports"]] == [imported["spec"]["targetPort"]]


def test_the_gateway_is_published_at_the_load_balancer_address_of_its_cluster(run):
    service = run.client("server").get(f"/api/v1/namespaces/{run.namespace('server')}/services/clusterlink")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["status"]["loadBalancer"]["ingress"] == [{"ip": run.nodes["server"].ranges.gateway,
                                                             "ipMode": "VIP"}]


def test_an_iperf3_client_pod_reaches_the_imported_service_by_its_dns_name(run):
    done = through_the_import(run)
    assert done.completed, done.report
    assert "Ingress authorized" in controlplane_log(run, "server")


def test_no_policy_allowing_egress_refuses_the_connection_and_the_pods_labels_decide(run):
    trusted_only = allow_only("client.clusterlink.net/labels.app=trusted-client")
    with deployed_edit(run.fabric, "client/policy.yaml", trusted_only):
        assert refused(run)
        assert "PDP not allowing connection" in controlplane_log(run, "client")
        done = through_the_import(run, labels={"app": "trusted-client"})
        assert done.completed, done.report
    assert not refused(run)


def test_no_policy_allowing_ingress_refuses_the_connection(run):
    with deployed_edit(run.fabric, "server/policy.yaml", allow_only("peer.clusterlink.net/name=another-peer")):
        assert refused(run)
        assert "PDP not allowing connection" in controlplane_log(run, "server")
    assert not refused(run)


def test_a_peer_whose_certificate_comes_from_another_fabric_cannot_connect(run):
    client = run.client("client")
    namespace = run.namespace("client")
    path = f"/api/v1/namespaces/{namespace}/secrets/cl-peer"
    original = client.get(path)
    ca = issue("another fabric", 365, True, None, None)
    peer = issue("client", 365, False, ca["cert_pem"], ca["key_pem"])
    foreign = {"cert.pem": peer["cert_pem"] + ca["cert_pem"], "key.pem": peer["key_pem"], "ca.pem": ca["cert_pem"]}

    def restart_controlplane(data: dict[str, str]) -> None:
        client.request("PATCH", path, {"data": data}, content_type="application/merge-patch+json")
        client.request("DELETE", f"/api/v1/namespaces/{namespace}/pods", query={"labelSelector": "app=cl-controlplane"})
        wait_deployments(run, [("client", namespace, "cl-controlplane")], 120)

    try:
        restart_controlplane({k: base64.b64encode(v.encode()).decode() for k, v in foreign.items()})
        assert refused(run)
    finally:
        restart_controlplane(original["data"])
        wait_platforms(run)
    assert not refused(run)


def test_after_an_up_that_removes_the_export_the_connection_is_refused(run):
    before = edit(run.fabric, "server/export.yaml", None)
    try:
        up(run.fabric, "server", force=True)
        assert refused(run)
    finally:
        edit(run.fabric, "server/export.yaml", before)
        up(run.fabric, "server")
    assert not refused(run)


def test_stopping_the_clusters_leaves_nothing_behind(clusters):
    """Last in the module: `clusterfabric apiservers stop`, another process than the one that started them, stops
    the clusters (processes by PID from the state files, pods' sandboxes, mounts, cgroups, network namespaces with
    their nftables tables, the kubelet's sysctls saved at the start)."""
    nodes = list(clusters.nodes.values())
    assert clusters.close() == []
    assert leftovers(nodes) == []
