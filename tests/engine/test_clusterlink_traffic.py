"""Traffic through the fabric the program deploys: ClusterLink's iperf3 example, end to end, on this machine.

examples/iperf3 (the ClusterLink documentation's Export, Import and policies,
verbatim) goes up on a local API server per cluster; its platforms run as the
real `cl-controlplane` and `cl-go-dataplane` (clusterfabric/localfabric.py), an
`iperf3 -s` runs behind the exported Service, and `iperf3 -c` runs in the
importing cluster. Then the same with the policy cases: each connection that
ClusterLink must refuse is refused, for the reason it must be.
"""

from __future__ import annotations

import json
import shutil
import time
from itertools import count
from pathlib import Path

import pytest

from clusterfabric.localfabric import LocalFabric
from clusterfabric.netns import PodNetwork
from clusterfabric.pods import LocalPod
from clusterfabric.toolchain import PROJECT_DIR
from components.clusterlink.certificates import issue
from tests.engine.conftest import local_control_planes, on_servers
from tests.pulumi_project import copy_program

EXAMPLE = PROJECT_DIR / "examples" / "iperf3"
CLUSTERS = ("server", "client")
IPERF3 = shutil.which("iperf3") or "/usr/bin/iperf3"
PEER_FILES = "/etc/ssl/certs/clink/{}"
_clients = count()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    with local_control_planes(tmp_path_factory.mktemp("apiservers"), CLUSTERS) as planes:
        yield planes


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory, servers):
    """The example's stacks up on the local API servers; `fabric.fabric_dir` is a copy the tests may edit."""
    project = copy_program(tmp_path_factory.mktemp("fabric") / "project")
    shutil.copytree(EXAMPLE, project / "iperf3")
    deployed = on_servers(project, servers)
    deployed.fabric_dir = project / "iperf3"
    result = deployed.up(list(CLUSTERS))
    assert result.ok, [(s.stack, s.result, s.message) for s in result.stacks]
    return deployed


@pytest.fixture(scope="module")
def local(fabric, servers, tmp_path_factory):
    """The platforms running, and iperf3's server behind the exported Service."""
    with PodNetwork() as network:
        running = LocalFabric(fabric.load(), servers, tmp_path_factory.mktemp("pods"), network)
        try:
            running.start()
            running.run_workload("server", "default", "iperf3-server-0", {"app": "iperf3-server"},
                                 [IPERF3, "-s", "-p", "5201"])
            yield running
        finally:
            running.stop()


def iperf3_client(local: LocalFabric, host: str, port: int, seconds: int = 2,
                  labels: dict[str, str] | None = None) -> tuple[int | None, dict]:
    """Run `iperf3 -c host -p port` in a pod of the importing cluster (labelled app=iperf3-client unless
    `labels` says otherwise); its exit status and JSON report."""
    client: LocalPod = local.run_workload("client", "default", f"iperf3-client-{next(_clients)}",
                                          labels or {"app": "iperf3-client"},
                                          [IPERF3, "-c", host, "-p", str(port), "-t", str(seconds), "-J",
                                           "--connect-timeout", "5000"])
    status = client.wait(seconds + 40)
    if status is None:
        client.stop()
    text = client.log.read_text(errors="replace")
    try:
        report = json.loads(text[text.index("{"):])
    except ValueError:
        report = {"error": text}
    return status, report


def target_port(local: LocalFabric) -> int:
    imp = local.client("client").read("clusterlink.net/v1alpha1", "Import", "iperf3-server", "default")
    return imp["spec"]["targetPort"]


def received(report: dict) -> int:
    return report.get("end", {}).get("sum_received", {}).get("bytes", 0)


def transferred(status: int | None, report: dict) -> bool:
    """The transfer completed: iperf3 reported no error and the server received more than a megabyte.
    (iperf3 3.12 exits 0 even on an error when it reports in JSON: its report is what tells.)"""
    return status == 0 and "error" not in report and received(report) > 1_000_000


def refused(local: LocalFabric, within: float = 20.0) -> tuple[bool, dict]:
    """Whether connections to the Import are refused (tried until `within` seconds pass, as policies and
    Exports reach the control planes by watch), and the last report."""
    deadline = time.monotonic() + within
    while True:
        status, report = iperf3_client(local, local.pod("client", "cl-dataplane").address, target_port(local), 1)
        if "error" in report and received(report) == 0:
            return True, report
        if time.monotonic() > deadline:
            return False, report
        time.sleep(1)


def edit(fabric, path: str, text: str | None) -> str | None:
    """Write (or with None, remove) a manifest of the fabric copy; what it held before."""
    file = fabric.fabric_dir / path
    before = file.read_text() if file.exists() else None
    if text is None:
        file.unlink()
    else:
        file.write_text(text)
    return before


def up(fabric, *stacks: str) -> None:
    result = fabric.up(list(stacks))
    assert result.ok, [(s.stack, s.result, s.message) for s in result.stacks]


def log_of(local: LocalFabric, cluster: str, prefix: str) -> str:
    return local.pod(cluster, prefix).pod.log.read_text(errors="replace")


def test_iperf3_reaches_the_exported_server_through_the_importing_data_plane(local):
    status, report = iperf3_client(local, local.pod("client", "cl-dataplane").address, target_port(local))
    assert transferred(status, report), report
    assert "Ingress authorized" in log_of(local, "server", "cl-controlplane")


def test_iperf3_reaches_it_by_the_imported_service_name_as_the_documentation_does(local):
    local.sync()  # the Services the control plane created for the Import
    status, report = iperf3_client(local, "iperf3-server", 5000)
    assert transferred(status, report), report


def test_a_merge_import_joins_the_service_of_its_name(local, fabric):
    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: iperf3-server\n  namespace: default\nspec:\n"
               "  selector:\n    app: iperf3-server\n  ports:\n    - port: 5000\n")
    merge = (PROJECT_DIR / "tests" / "fixtures" / "clusterlink" / "services-import-merge.yaml").read_text()
    # The plain import goes first: ClusterLink owns the Service of its name until then.
    before = edit(fabric, "client/import.yaml", None)
    try:
        up(fabric, "client")
        edit(fabric, "client/import.yaml", merge)
        edit(fabric, "client/service.yaml", service)
        up(fabric, "client")
        merged = wait_for(lambda: local.client("client").request(
            "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            query={"labelSelector": "kubernetes.io/service-name=iperf3-server"})["items"])
        assert [(s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
                 [e["addresses"] for e in s["endpoints"]], [p["port"] for p in s["ports"]]) for s in merged] == [
            ("clusterlink.net", [[local.pod("client", "cl-dataplane").address]], [target_port(local)])]
        local.sync()
        status, report = iperf3_client(local, "iperf3-server", 5000)
        assert transferred(status, report), report
    finally:
        edit(fabric, "client/import.yaml", None)
        edit(fabric, "client/service.yaml", None)
        up(fabric, "client")
        edit(fabric, "client/import.yaml", before)
        up(fabric, "client")
        local.sync()


def wait_for(read, timeout: float = 30.0):
    """`read()` once it returns something, polled for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def allow_only(selector: str) -> str:
    """An AccessPolicy of namespace default allowing only connections `from` workloads matching `selector`."""
    key, value = selector.split("=")
    return ("apiVersion: clusterlink.net/v1alpha1\nkind: AccessPolicy\nmetadata:\n  name: allow-all\n"
            "  namespace: default\nspec:\n  action: allow\n  from:\n    - workloadSelector:\n        matchLabels:\n"
            f"          {key}: {value}\n  to:\n    - workloadSelector: {{}}\n")


def test_no_policy_allowing_egress_refuses_the_connection_and_the_workloads_labels_decide(local, fabric):
    before = edit(fabric, "client/policy.yaml", allow_only("client.clusterlink.net/labels.app=trusted-client"))
    try:
        up(fabric, "client")
        assert refused(local)[0]  # the iperf3 client's pod is labelled app=iperf3-client
        assert "PDP not allowing connection" in log_of(local, "client", "cl-controlplane")
        status, report = iperf3_client(local, local.pod("client", "cl-dataplane").address, target_port(local),
                                       labels={"app": "trusted-client"})
        assert transferred(status, report), report
    finally:
        edit(fabric, "client/policy.yaml", before)
        up(fabric, "client")
    assert not refused(local)[0]


def test_no_policy_allowing_ingress_refuses_the_connection(local, fabric):
    before = edit(fabric, "server/policy.yaml", allow_only("peer.clusterlink.net/name=another-peer"))
    try:
        up(fabric, "server")
        assert refused(local)[0]
        assert "PDP not allowing connection" in log_of(local, "server", "cl-controlplane")
    finally:
        edit(fabric, "server/policy.yaml", before)
        up(fabric, "server")
    assert not refused(local)[0]


def test_a_deny_beats_an_allow(local, fabric):
    deny = ("apiVersion: clusterlink.net/v1alpha1\nkind: AccessPolicy\nmetadata:\n  name: deny-client\n"
            "  namespace: default\nspec:\n  action: deny\n  from:\n    - workloadSelector:\n        matchLabels:\n"
            "          peer.clusterlink.net/name: client\n  to:\n    - workloadSelector: {}\n")
    edit(fabric, "server/deny.yaml", deny)
    try:
        up(fabric, "server")
        assert refused(local)[0]  # allow-all is still there
    finally:
        edit(fabric, "server/deny.yaml", None)
        up(fabric, "server")
    assert not refused(local)[0]


def test_a_peer_whose_certificate_comes_from_another_fabric_cannot_connect(local):
    ca = issue("another fabric", 1, True, None, None)
    peer = issue("client", 1, False, ca["cert_pem"], ca["key_pem"])
    foreign = {PEER_FILES.format("cert.pem"): (peer["cert_pem"] + ca["cert_pem"]).encode(),
               PEER_FILES.format("key.pem"): peer["key_pem"].encode(),
               PEER_FILES.format("ca.pem"): ca["cert_pem"].encode()}
    try:
        local.restart_platform("client", {"cl-controlplane": foreign})
        assert refused(local)[0]
        assert "certificate" in log_of(local, "server", "cl-dataplane").split("cl-dataplane")[-1] or \
            "Unable to get access token" in log_of(local, "client", "cl-controlplane")
    finally:
        local.restart_platform("client")
        local.wait_peers_reachable()
    assert not refused(local)[0]


def test_after_an_up_that_removes_the_export_the_connection_is_refused(local, fabric):
    forced = type(fabric)(fabric.fabric_dir, project_dir=fabric.project_dir, targets=fabric.targets, force=True)
    before = edit(fabric, "server/export.yaml", None)
    try:
        result = forced.up(["server"])
        assert result.ok, [(s.stack, s.result, s.message) for s in result.stacks]
        assert refused(local)[0]
    finally:
        edit(fabric, "server/export.yaml", before)
        up(fabric, "server")
