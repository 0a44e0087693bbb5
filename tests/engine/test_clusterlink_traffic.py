"""Traffic through the fabric the program deploys: ClusterLink's iperf3 example, end to end, on this machine.

examples/iperf3 (the ClusterLink documentation's Export, Import and policies,
verbatim) goes up on a local API server per cluster; its platforms run as the
real `cl-controlplane` and `cl-go-dataplane` (clusterfabric/local/localfabric.py), an
`iperf3 -s` runs behind the exported Service, and `iperf3 -c` runs in the
importing cluster. Then the same with the policy cases: each connection that
ClusterLink must refuse is refused, for the reason it must be.
"""

from __future__ import annotations

import time

import pytest

from clusterfabric.local.iperf3 import EXAMPLE, Transfer, import_listener, serve, transfer
from clusterfabric.local.localfabric import LocalFabric, run_locally
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.clusterlink.certificates import issue
from tests.fabric_edits import allow_only, edit, up

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

PEER_FILES = "/etc/ssl/certs/clink/{}"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    """The example up on local API servers, its platforms running, iperf3's server behind the exported Service."""
    with run_locally(EXAMPLE, tmp_path_factory.mktemp("iperf3")) as running:
        serve(running.local)
        yield running


@pytest.fixture(scope="module")
def local(run) -> LocalFabric:
    return run.local


@pytest.fixture(scope="module")
def fabric(run):
    """The deployed fabric; `fabric.fabric_dir` is a copy of the example the tests may edit."""
    return run.fabric


def through_the_import(local: LocalFabric, seconds: int = 2, **kwargs) -> Transfer:
    """iperf3 against the importing data plane's listener for the Import (its targetPort)."""
    return transfer(local, *import_listener(local), seconds, **kwargs)


def refused(local: LocalFabric, within: float = 20.0) -> bool:
    """Whether connections to the Import are refused, tried until `within` seconds pass (policies and Exports
    reach the control planes by watch, a moment after `up`)."""
    deadline = time.monotonic() + within
    while not through_the_import(local, 1).refused:
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def log_of(local: LocalFabric, cluster: str, prefix: str) -> str:
    return local.pod(cluster, prefix).pod.log.read_text(errors="replace")


def test_iperf3_reaches_the_exported_server_through_the_importing_data_plane(local):
    done = through_the_import(local)
    assert done.completed, done.report
    assert "Ingress authorized" in log_of(local, "server", "cl-controlplane")


def test_iperf3_reaches_it_by_the_imported_service_name_as_the_documentation_does(local):
    local.sync()  # the Services the control plane created for the Import
    done = transfer(local, "iperf3-server", 5000)
    assert done.completed, done.report


def test_a_merge_import_joins_the_service_of_its_name(local, fabric):
    service = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: iperf3-server\n  namespace: default\nspec:\n"
               "  selector:\n    app: iperf3-server\n  ports:\n    - port: 5000\n")
    merge = (PROJECT_DIR / "tests" / "fixtures" / "clusterlink" / "services-import-merge.yaml").read_text()
    # The plain import goes first: ClusterLink owns the Service of its name until then. It is all client shares:
    # that up is refused without --force.
    before = edit(fabric, "client/import.yaml", None)
    try:
        up(fabric, "client", force=True)
        edit(fabric, "client/import.yaml", merge)
        edit(fabric, "client/service.yaml", service)
        up(fabric, "client")
        merged = wait_for(lambda: local.client("client").request(
            "GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
            query={"labelSelector": "kubernetes.io/service-name=iperf3-server"})["items"])
        assert [(s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
                 [e["addresses"] for e in s["endpoints"]], [p["port"] for p in s["ports"]]) for s in merged] == [
            ("clusterlink.net", [[import_listener(local)[0]]], [import_listener(local)[1]])]
        local.sync()
        done = transfer(local, "iperf3-server", 5000)
        assert done.completed, done.report
    finally:
        edit(fabric, "client/import.yaml", None)
        edit(fabric, "client/service.yaml", None)
        up(fabric, "client", force=True)
        edit(fabric, "client/import.yaml", before)
        up(fabric, "client")
        local.sync()


def wait_for(read, timeout: float = 30.0):
    """`read()` once it returns something, polled for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def test_no_policy_allowing_egress_refuses_the_connection_and_the_workloads_labels_decide(local, fabric):
    before = edit(fabric, "client/policy.yaml", allow_only("client.clusterlink.net/labels.app=trusted-client"))
    try:
        up(fabric, "client")
        assert refused(local)  # the iperf3 client's pod is labelled app=iperf3-client
        assert "PDP not allowing connection" in log_of(local, "client", "cl-controlplane")
        done = through_the_import(local, labels={"app": "trusted-client"})
        assert done.completed, done.report
    finally:
        edit(fabric, "client/policy.yaml", before)
        up(fabric, "client")
    assert not refused(local)


def test_no_policy_allowing_ingress_refuses_the_connection(local, fabric):
    before = edit(fabric, "server/policy.yaml", allow_only("peer.clusterlink.net/name=another-peer"))
    try:
        up(fabric, "server")
        assert refused(local)
        assert "PDP not allowing connection" in log_of(local, "server", "cl-controlplane")
    finally:
        edit(fabric, "server/policy.yaml", before)
        up(fabric, "server")
    assert not refused(local)


def test_a_deny_beats_an_allow(local, fabric):
    deny = ("apiVersion: clusterlink.net/v1alpha1\nkind: AccessPolicy\nmetadata:\n  name: deny-client\n"
            "  namespace: default\nspec:\n  action: deny\n  from:\n    - workloadSelector:\n        matchLabels:\n"
            "          peer.clusterlink.net/name: client\n  to:\n    - workloadSelector: {}\n")
    edit(fabric, "server/deny.yaml", deny)
    try:
        up(fabric, "server")
        assert refused(local)  # allow-all is still there
    finally:
        edit(fabric, "server/deny.yaml", None)
        up(fabric, "server")
    assert not refused(local)


def test_a_peer_whose_certificate_comes_from_another_fabric_cannot_connect(local):
    ca = issue("another fabric", 365, True, None, None)
    peer = issue("client", 365, False, ca["cert_pem"], ca["key_pem"])
    foreign = {PEER_FILES.format("cert.pem"): (peer["cert_pem"] + ca["cert_pem"]).encode(),
               PEER_FILES.format("key.pem"): peer["key_pem"].encode(),
               PEER_FILES.format("ca.pem"): ca["cert_pem"].encode()}
    try:
        local.restart_platform("client", {"cl-controlplane": foreign})
        assert refused(local)
        assert "certificate" in log_of(local, "server", "cl-dataplane").split("cl-dataplane")[-1] or \
            "Unable to get access token" in log_of(local, "client", "cl-controlplane")
    finally:
        local.restart_platform("client")
        local.wait_peers_reachable()
    assert not refused(local)


def test_after_an_up_that_removes_the_export_the_connection_is_refused(local, fabric):
    before = edit(fabric, "server/export.yaml", None)
    try:
        up(fabric, "server", force=True)
        assert refused(local)
    finally:
        edit(fabric, "server/export.yaml", before)
        up(fabric, "server")
