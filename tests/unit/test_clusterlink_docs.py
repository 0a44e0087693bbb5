"""Every YAML example of the ClusterLink documentation is accepted as written and means what the docs say."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterfabric.components.clusterlink.sharing import _metadata
from clusterfabric.components.model.access import Connection, Policies
from clusterfabric.components.model.clusterlink import AccessPolicy, Export, Import, Peer, cr_body
from clusterfabric.components.model.load import read_yaml_documents
from clusterfabric.components.model.validation import parse

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "clusterlink"


def load(name: str, model):
    [doc] = list(read_yaml_documents(DOCS / name))
    return parse(model, doc, name, model.__name__)


def test_export_example_shares_the_service_of_the_same_name():
    export = load("services-export.yaml", Export)
    assert (export.metadata.namespace, export.metadata.name) == ("default", "iperf3-server")
    assert export.service == "iperf3-server"  # host defaults to the Export's name
    assert export.spec.port == 5000


def test_import_example_defaults_to_random_load_balancing_and_no_target_port():
    imp = load("services-import.yaml", Import)
    assert imp.spec.port == 5000
    assert imp.spec.lbScheme == "random"
    assert imp.spec.targetPort is None
    assert [(s.peer, s.exportNamespace, s.exportName) for s in imp.spec.sources] == [("server", "default", "iperf3-server")]
    assert not imp.merge


def test_merge_import_example_takes_the_boolean_label_as_the_string_true():
    imp = load("services-import-merge.yaml", Import)
    assert imp.merge
    assert _metadata(imp)["labels"] == {"import.clusterlink.net/merge": "true"}


def test_allow_all_example_allows_any_connection_in_its_namespace():
    policy = load("policies-allow-all.yaml", AccessPolicy)
    assert cr_body(policy) == {"action": "allow", "from": [{"workloadSelector": {}}], "to": [{"workloadSelector": {}}]}
    anything = Connection({"peer.clusterlink.net/name": "any"}, {"export.clusterlink.net/name": "any"})
    assert Policies(namespaced=(policy,)).allows(anything, "default")
    assert not Policies(namespaced=(policy,)).allows(anything, "other")


def test_peer_sample_gateways_written_as_host_port_become_endpoints():
    peer = load("peers-sample.yaml", Peer)
    assert peer.metadata.name == "cluster17.us-east"
    assert [(g.host, g.port) for g in peer.spec.gateways] == [("192.168.0.12", 32287), ("192.168.0.17", 32287)]
    # `attributes` is not in the Peer CRD: accepted from the sample, never written.
    assert cr_body(peer) == {"gateways": [{"host": "192.168.0.12", "port": 32287}, {"host": "192.168.0.17", "port": 32287}]}


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.yaml")))
def test_every_documentation_example_is_kept_as_a_fixture(name: str):
    assert list(read_yaml_documents(DOCS / name)), f"{name} is empty"
