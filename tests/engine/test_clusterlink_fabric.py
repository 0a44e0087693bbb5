"""The ClusterLink example fabric on the real engine: two exporters, one importer with two sources."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography import x509

from tests.example_fabric import EXAMPLE_STACKS
from tests.pulumi_project import PulumiProject, copy_program, project
from tests.schemas import errors, rendered_objects

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


def rendered(example: PulumiProject, stack: str) -> dict[tuple[str, str, str], dict]:
    return {(o["kind"], o["metadata"].get("namespace", "-"), o["metadata"]["name"]): o
            for _, o in rendered_objects(example.directory / "rendered" / stack)}


def test_every_rendered_object_validates_against_its_schema(example: PulumiProject):
    checked = 0
    for stack in EXAMPLE_STACKS:
        for path, obj in rendered_objects(example.directory / "rendered" / stack):
            assert errors(obj) == [], f"{path}"
            checked += 1
    assert checked >= 3 * 18


def test_importer_writes_target_port_and_lb_scheme_explicitly(example: PulumiProject):
    outputs = example.outputs("central")
    imports = {k[2]: o["spec"] for k, o in rendered(example, "central").items() if k[0] == "Import"}
    assert imports["reviews"] == {
        "port": 9080, "lbScheme": "round-robin", "targetPort": outputs["importTargetPorts"]["bookinfo/reviews"],
        "sources": [{"exportName": "reviews", "exportNamespace": "bookinfo", "peer": "east"},
                    {"exportName": "reviews", "exportNamespace": "bookinfo", "peer": "west"}],
    }
    assert imports["iperf3-server"]["lbScheme"] == "random"
    ports = [spec["targetPort"] for spec in imports.values()]
    assert len(set(ports)) == 3 and all(1024 <= p <= 49151 for p in ports)


def test_importer_gets_a_peer_for_each_source_from_its_stack_outputs(example: PulumiProject):
    peers = {k[2]: (k[1], o["spec"]) for k, o in rendered(example, "central").items() if k[0] == "Peer"}
    assert peers == {
        "east": ("clusterlink-system", {"gateways": [{"host": "clusterlink.east.example.com", "port": 443}]}),
        "west": ("clusterlink-system", {"gateways": [{"host": "clusterlink.west.example.com", "port": 30443}]}),
    }
    assert not any(k[0] == "Peer" for k in rendered(example, "east"))  # exporters import nothing


def test_an_export_without_host_is_written_without_host(example: PulumiProject):
    # ClusterLink then dials <name>.<namespace>.svc.cluster.local and checks that Service exists; a host
    # written as the bare Service name would be resolved in the data plane's own namespace instead.
    exports = {k[1:]: o["spec"] for k, o in rendered(example, "east").items() if k[0] == "Export"}
    assert exports == {("bookinfo", "reviews"): {"port": 9080}, ("default", "iperf3-server"): {"port": 5000}}


def test_merge_import_keeps_its_label_as_a_string(example: PulumiProject):
    details = rendered(example, "central")[("Import", "bookinfo", "details")]
    assert details["metadata"]["labels"] == {"import.clusterlink.net/merge": "true"}


def test_platform_has_the_controlplane_dataplane_and_ingress(example: PulumiProject):
    west = rendered(example, "west")
    dataplane = west[("Deployment", "clusterlink-system", "cl-dataplane")]["spec"]
    assert dataplane["replicas"] == 2
    assert dataplane["template"]["spec"]["containers"][0]["image"] == "ghcr.io/clusterlink-net/cl-go-dataplane:v0.4.1"
    ingress = west[("Service", "clusterlink-system", "clusterlink")]["spec"]
    assert ingress["ports"] == [{"name": "dataplane", "port": 443, "targetPort": 4443, "nodePort": 30443}]
    control = west[("Deployment", "clusterlink-system", "cl-controlplane")]["spec"]["template"]["spec"]
    assert control["serviceAccountName"] == "cl-controlplane"
    assert control["containers"][0]["env"][0]["name"] == "CL_NAMESPACE"
    assert {k[0] for k in west if k[2] == "cl-controlplane"} >= {"ClusterRole", "ClusterRoleBinding", "ServiceAccount"}


def test_each_peer_certificate_names_the_peer_and_chains_to_the_fabric_ca(example: PulumiProject):
    for stack in EXAMPLE_STACKS:
        data = rendered(example, stack)[("Secret", "clusterlink-system", "cl-peer")]["data"]
        cert = x509.load_pem_x509_certificate(base64.b64decode(data["cert.pem"]))
        ca = x509.load_pem_x509_certificate(base64.b64decode(data["ca.pem"]))
        cert.verify_directly_issued_by(ca)
        assert cert.subject.rfc4514_string() == f"CN={stack}"
        assert set(data) == {"cert.pem", "key.pem", "ca.pem"}


def test_no_private_key_is_stored_in_plaintext_in_the_state(example: PulumiProject):
    state = "".join(p.read_text() for p in (example.env["PULUMI_BACKEND_URL"].removeprefix("file://") and
                    Path(example.env["PULUMI_BACKEND_URL"].removeprefix("file://")).rglob("*.json")))
    assert "PRIVATE KEY" not in state
    assert base64.b64encode(b"-----BEGIN PRIVATE KEY").decode()[:20] not in state
    assert '"ciphertext"' in state


def test_missing_export_fails_the_importer_preview_and_declares_nothing(tmp_path: Path):
    proj = project(copy_program(tmp_path / "p"))
    sharing = proj.directory / "config" / "east" / "sharing.yaml"
    original = sharing.read_text()
    without_iperf = original.split("---\n", 1)[1]  # east publishes only reviews
    sharing.write_text(without_iperf)
    for stack in ("east", "west", "central"):
        proj.init_stack(stack)
    proj.up("east")
    proj.up("west")
    sharing.write_text(original)  # the files are fine again; east's published state is not
    result = proj.pulumi("up", "--yes", "--skip-preview", "--stack", "central", check=False)
    assert result.returncode != 0
    assert ("error: invalid fabric input:\n" in result.stdout and
            "config/central/sharing.yaml: Import/default/iperf3-server: spec.sources[0].exportName: peer 'east' "
            "exports no default/iperf3-server (its exports: bookinfo/reviews)" in result.stdout), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    state = json.loads(proj.pulumi("stack", "export", "--stack", "central").stdout)
    types = {r["type"] for r in state["deployment"].get("resources", [])}
    assert not any(t.startswith("kubernetes:") or t.startswith("clusterfabric:") for t in types), types
    assert not (proj.directory / "rendered" / "central").exists()


def test_preview_warns_when_no_policy_can_allow_an_import(example_copy: PulumiProject):
    sharing = example_copy.directory / "config" / "central" / "sharing.yaml"
    sharing.write_text(sharing.read_text().replace(
        "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: allow",
        "  name: allow-all\n  namespace: bookinfo\nspec:\n  action: deny"))
    result = example_copy.pulumi("preview", "--stack", "central")
    assert ("warning: config/central/sharing.yaml: Import/bookinfo/details: spec.sources[0]: no policy can allow it "
            "on the egress side (cluster 'central', namespace 'bookinfo')") in result.stdout


def test_a_source_peer_not_deployed_yet_is_checked_against_its_manifests(tmp_path: Path):
    proj = project(copy_program(tmp_path / "p"))
    for stack in ("east", "west", "central"):
        proj.init_stack(stack)
    proj.up("east")
    result = proj.up("central")  # west, which central imports from, is not deployed yet
    assert ("warning: stack 'west' has published no ClusterLink outputs yet; 'central' is checked against "
            "'west''s manifests instead") in result.stdout
    peers = {o["metadata"]["name"] for _, o in rendered_objects(proj.directory / "rendered" / "central")
             if o["kind"] == "Peer"}
    assert peers == {"east", "west"}
