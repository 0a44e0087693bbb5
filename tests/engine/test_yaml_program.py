"""A Pulumi YAML program using the component package (components/plugin), on the real engine.

The program is examples/yaml-components: a ClusterLink Export, Import, Peer and AccessPolicy declared through
the package,
rendered to a directory by a Kubernetes provider. It runs on the YAML language host scripts/setup builds;
the package's components run in the Python language host, validated by the models `validate` uses.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.component_package import yaml_program

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


def manifest(directory: Path, kind: str, name: str, namespace: str = "shop") -> dict[str, Any]:
    return yaml.safe_load((directory / "rendered" / "1-manifest" /
                           f"clusterlink.net_v1alpha1-{kind}-{namespace}-{name}.yaml").read_text())


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    proj = yaml_program(tmp_path_factory.mktemp("yaml") / "program")
    proj.up("dev")
    return proj.directory


def test_export_renders_exactly_the_declared_fields(deployed):
    assert manifest(deployed, "export", "checkout") == {
        "apiVersion": "clusterlink.net/v1alpha1", "kind": "Export",
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {"port": 8080},
    }


def test_import_renders_exactly_the_declared_fields(deployed):
    assert manifest(deployed, "import", "reviews") == {
        "apiVersion": "clusterlink.net/v1alpha1", "kind": "Import",
        "metadata": {"name": "reviews", "namespace": "shop"},
        "spec": {
            "port": 9080, "targetPort": 20080, "lbScheme": "round-robin",
            "sources": [{"exportName": "reviews", "exportNamespace": "books", "peer": "east"},
                        {"exportName": "reviews", "exportNamespace": "books", "peer": "west"}],
        },
    }


def test_peer_renders_in_clusterlinks_namespace_with_its_gateway(deployed):
    assert manifest(deployed, "peer", "east", "clusterlink-system") == {
        "apiVersion": "clusterlink.net/v1alpha1", "kind": "Peer",
        "metadata": {"name": "east", "namespace": "clusterlink-system"},
        "spec": {"gateways": [{"host": "clusterlink.east.example.com", "port": 443}]},
    }


def test_access_policy_renders_from_and_to_as_clusterlink_names_them(deployed):
    assert manifest(deployed, "accesspolicy", "allow-east") == {
        "apiVersion": "clusterlink.net/v1alpha1", "kind": "AccessPolicy",
        "metadata": {"name": "allow-east", "namespace": "shop"},
        "spec": {"action": "allow",
                 "from": [{"workloadSelector": {"matchLabels": {"peer.clusterlink.net/name": "east"}}}],
                 "to": [{"workloadSelector": {}}]},
    }


def test_only_the_declared_objects_are_rendered(deployed):
    assert sorted(f.name for f in (deployed / "rendered" / "1-manifest").iterdir()) == [
        "clusterlink.net_v1alpha1-accesspolicy-shop-allow-east.yaml", "clusterlink.net_v1alpha1-export-shop-checkout.yaml",
        "clusterlink.net_v1alpha1-import-shop-reviews.yaml", "clusterlink.net_v1alpha1-peer-clusterlink-system-east.yaml"]


def test_port_0_fails_the_up_with_validates_message_and_names_the_argument(tmp_path):
    def port_0(program: dict[str, Any]) -> None:
        program["resources"]["checkout"]["properties"]["port"] = 0

    proj = yaml_program(tmp_path / "program", port_0)
    result = proj.pulumi("up", "--yes", "--skip-preview", "--stack", "dev", check=False)
    assert result.returncode != 0
    assert ("clusterfabric:clusterlink:Export checkout: Export/shop/checkout: spec.port: "
            "Input should be greater than or equal to 1") in result.stdout
    assert "property port with value '{0}' has a problem: Input should be greater than or equal to 1" in result.stdout
    assert not (tmp_path / "program" / "rendered" / "1-manifest" / "clusterlink.net_v1alpha1-export-shop-checkout.yaml").exists()


def platform_only(program: dict[str, Any]) -> None:
    program["resources"] = {"rendered": program["resources"]["rendered"], "east-platform": {
        "type": "clusterfabric:clusterlink:Platform",
        "properties": {"peer": "east", "fabricCaCert": "FABRIC-CA", "peerCert": "PEER-CERT", "peerKey": "PEER-KEY",
                       "ingress": {"type": "NodePort", "port": 30443}},
        "options": {"providers": ["${rendered}"]}}}
    program["outputs"] = {"namespace": "${east-platform.namespace}", "ingress": "${east-platform.ingressService}"}


def test_platform_through_the_package_issues_its_certificates_and_renders_its_ingress(tmp_path):
    proj = yaml_program(tmp_path / "program", platform_only)
    proj.up("dev")
    assert proj.outputs("dev") == {"namespace": "clusterlink-system", "ingress": "clusterlink"}
    rendered = proj.directory / "rendered" / "1-manifest"
    ingress = yaml.safe_load((rendered / "v1-service-clusterlink-system-clusterlink.yaml").read_text())
    assert ingress["spec"] == {"type": "NodePort", "selector": {"app": "cl-dataplane"},
                               "ports": [{"name": "dataplane", "port": 443, "targetPort": 4443, "nodePort": 30443}]}
    controlplane = yaml.safe_load((rendered / "v1-secret-clusterlink-system-cl-controlplane.yaml").read_text())
    assert base64.b64decode(controlplane["data"]["cert"]).startswith(b"-----BEGIN CERTIFICATE-----")
    peer = yaml.safe_load((rendered / "v1-secret-clusterlink-system-cl-peer.yaml").read_text())
    assert base64.b64decode(peer["data"]["key.pem"]) == b"PEER-KEY"
