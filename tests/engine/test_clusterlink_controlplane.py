"""ClusterLink v0.4.1's own control plane and Go data plane, run against what the stacks declared.

The example's ClusterLink stacks go up on real API servers (one per cluster,
RBAC enforced); then `cl-controlplane` and `cl-go-dataplane`, built from the
Go module proxy, run as processes that see exactly what their pods would
(clusterfabric/local/pods.py): the Deployment's args and env, the mounted Secrets'
files at their mount paths, a token of the pod's ServiceAccount, each pod in a
network namespace of its own. Every process and namespace is stopped or removed
by PID / name at the end of the module, also when a test fails.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from clusterfabric.local.apiserver import ControlPlane
from clusterfabric.local.netns import PodNetwork
from clusterfabric.local.pods import LocalPod, http_status, run_deployment_pod, wait_until
from clusterfabric.components.clusterlink.certificates import CLIENT, issue
from tests.example_fabric import EXAMPLE_STACKS, on_servers
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

NAMESPACE = "clusterlink-system"
CR = "clusterlink.net/v1alpha1"
READINESS = 4445
# Where the Go data plane reads its certificate and key (fixed in the binary, as the Deployment mounts them).
DATAPLANE_CERT, DATAPLANE_KEY = "/etc/ssl/certs/clink-dataplane.pem", "/etc/ssl/key/clink-dataplane.pem"

@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, ControlPlane]):
    fabric = on_servers(copy_program(tmp_path_factory.mktemp("fabric") / "project"), servers)
    result = fabric.up(list(EXAMPLE_STACKS))
    assert result.ok, [(s.stack, s.result, s.message) for s in result.stacks]
    return fabric


@pytest.fixture(scope="module")
def network():
    with PodNetwork() as net:
        yield net


class Pods:
    """The pods this module started, each stopped by its process group at the end."""

    def __init__(self, servers: dict[str, ControlPlane], network: PodNetwork, directory: Path):
        self.servers, self.network, self.directory = servers, network, directory
        self.started: list[LocalPod] = []

    def run(self, cluster: str, deployment: str, **kwargs) -> LocalPod:
        pod = run_deployment_pod(self.servers[cluster], self.network, NAMESPACE, deployment, self.directory, **kwargs)
        self.started.append(pod)
        return pod

    def stop_all(self) -> None:
        for pod in self.started:
            pod.stop()


@pytest.fixture(scope="module")
def pods(deployed, servers, network, tmp_path_factory):
    started = Pods(servers, network, tmp_path_factory.mktemp("pods"))
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def controlplanes(pods: Pods) -> dict[str, LocalPod]:
    """The control plane of the exporter east and of the importer central."""
    running = {cluster: pods.run(cluster, "cl-controlplane") for cluster in ("east", "central")}
    for cluster, pod in running.items():
        assert wait_until(lambda: http_status(pod.network_namespace, pod.address, READINESS) == 200 or not
                          pod.running(), 60), f"{cluster}: {pod.log_tail()}"
    return running


def dataplane_hosts(controlplane: LocalPod) -> dict[str, str]:
    """The data plane dials `cl-controlplane`, the control plane's Service (port 4444 = its pod's port)."""
    return {"cl-controlplane": controlplane.address,
            f"cl-controlplane.{NAMESPACE}.svc.cluster.local": controlplane.address}


def conditions(obj: dict) -> dict[str, str]:
    return {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}


def test_controlplanes_are_still_running_after_20_seconds_and_ready(controlplanes):
    started = min(p.log.stat().st_mtime for p in controlplanes.values())
    time.sleep(max(0.0, started + 20 - time.time()))
    for cluster, pod in controlplanes.items():
        assert pod.running(), f"{cluster}'s cl-controlplane exited:\n{pod.log_tail()}"
        assert http_status(pod.network_namespace, pod.address, READINESS) == 200, pod.log_tail()


def test_every_export_is_valid_in_the_exporting_cluster(controlplanes, servers):
    east = servers["east"].client()
    names = [(e["metadata"]["namespace"], e["metadata"]["name"])
             for e in east.get(f"/apis/{CR}/exports")["items"]]
    assert sorted(names) == [("bookinfo", "reviews"), ("default", "iperf3-server")]

    def valid() -> bool:
        return all(conditions(east.read(CR, "Export", n, ns)).get("ExportValid") == "True" for ns, n in names)

    assert wait_until(valid, 30), [east.read(CR, "Export", n, ns).get("status") for ns, n in names]


def test_every_import_is_valid_and_keeps_the_target_port_the_program_chose(controlplanes, servers, deployed):
    central = servers["central"].client()
    chosen = deployed.outputs("central")["importTargetPorts"]
    assert len(chosen) == 3

    def imports() -> dict[str, dict]:
        return {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i
                for i in central.get(f"/apis/{CR}/imports")["items"]}

    def valid() -> bool:
        return all(conditions(i) == {"ImportTargetPortValid": "True", "ImportServiceValid": "True"}
                   for i in imports().values())

    assert wait_until(valid, 30), {k: i.get("status") for k, i in imports().items()}
    assert {k: i["spec"]["targetPort"] for k, i in imports().items()} == chosen


def test_services_the_controlplane_creates_for_imports_lead_to_their_target_ports(controlplanes, servers, deployed):
    central = servers["central"].client()
    chosen = deployed.outputs("central")["importTargetPorts"]

    def services() -> dict[str, dict]:
        listed = central.request("GET", "/api/v1/services",
                                 query={"labelSelector": "app.kubernetes.io/managed-by=clusterlink.net"})
        return {f"{s['metadata']['labels']['clusterlink.net/import-namespace']}/"
                f"{s['metadata']['labels']['clusterlink.net/import-name']}:{s['spec']['type']}": s
                for s in listed["items"]}

    # Each import outside ClusterLink's namespace: a Service there leading to the data plane's target port, and
    # one of the import's name in its own namespace pointing at it. The merge import (bookinfo/details) joins
    # the Service the cluster already has: nothing is created for it.
    expected = {f"{i}:{kind}" for i in ("default/iperf3-server", "bookinfo/reviews")
                for kind in ("ClusterIP", "ExternalName")}
    assert wait_until(lambda: set(services()) == expected, 30), sorted(services())
    for key, service in services().items():
        if service["spec"]["type"] == "ClusterIP":
            assert service["metadata"]["namespace"] == NAMESPACE
            assert service["spec"]["selector"] == {"app": "cl-dataplane"}
            assert [p["targetPort"] for p in service["spec"]["ports"]] == [chosen[key.split(":")[0]]]


def test_go_dataplane_reaches_its_controlplane_over_mutual_tls_and_becomes_ready(pods, controlplanes):
    dataplane = pods.run("central", "cl-dataplane", hosts=dataplane_hosts(controlplanes["central"]),
                         instance="ours")
    # Ready means it fetched its configuration and the peer certificates from the control plane (xDS, mTLS).
    assert wait_until(lambda: http_status(dataplane.network_namespace, dataplane.address, READINESS) == 200, 60), \
        dataplane.log_tail()


# How the control plane's TLS refuses a data plane: a certificate whose issuer is named like its CA (every
# cluster's CA is `cl-ca`) is sent and fails verification; any other is not even sent, the server requiring one.
REFUSALS = ("tls: unknown certificate authority", "tls: certificate required")


def refused(dataplane: LocalPod) -> bool:
    """Never ready within 15 s, while running, its connections to the control plane refused by TLS."""
    ready = wait_until(lambda: http_status(dataplane.network_namespace, dataplane.address, READINESS) == 200, 15)
    log = dataplane.log.read_text()
    return not ready and dataplane.running() and any(refusal in log for refusal in REFUSALS)


def dataplane_presenting(pods: Pods, controlplane: LocalPod, cert: bytes, key: bytes, instance: str) -> LocalPod:
    """central's data plane, its own certificate and key replaced by `cert` and `key`."""
    return pods.run("central", "cl-dataplane", hosts=dataplane_hosts(controlplane), instance=instance,
                    files={DATAPLANE_CERT: cert, DATAPLANE_KEY: key})


def secret_data(plane: ControlPlane, name: str) -> dict[str, bytes]:
    data = plane.client().read("v1", "Secret", name, NAMESPACE)["data"]
    return {key: base64.b64decode(value) for key, value in data.items()}


def test_a_peer_certificate_cannot_pass_for_a_dataplane(pods, controlplanes, servers):
    """The fabric CA signs peer certificates; the control plane trusts only its cluster's own CA for data planes."""
    peer = secret_data(servers["central"], "cl-peer")
    assert refused(dataplane_presenting(pods, controlplanes["central"], peer["cert.pem"], peer["key.pem"], "peer"))


def test_a_dataplane_certificate_of_another_cluster_is_refused(pods, controlplanes, servers):
    other = secret_data(servers["east"], "cl-dataplane")
    assert refused(dataplane_presenting(pods, controlplanes["central"], other["cert"], other["key"], "east"))


def test_a_dataplane_certificate_from_another_fabrics_ca_is_refused(pods, controlplanes):
    ca = issue("cl-ca", 365, True, None, None)
    stranger = issue("cl-dataplane", 365, False, ca["cert_pem"], ca["key_pem"], usages=(CLIENT,))
    assert refused(dataplane_presenting(pods, controlplanes["central"], (stranger["cert_pem"] + ca["cert_pem"]).encode(),
                                        stranger["key_pem"].encode(), "stranger"))
