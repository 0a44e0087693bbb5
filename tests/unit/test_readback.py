"""Reading back: what counts as a difference between a declared object and the API server's copy."""

from __future__ import annotations

from clusterfabric.local.apiserver import crd_documents, default_crds
from clusterfabric.local.readback import contained
from clusterfabric.components.model.json_values import SECRET_SIG, SIG_KEY

SECRET = {SIG_KEY: SECRET_SIG, "ciphertext": "v1:abc"}


def differences(declared, live) -> list[tuple]:
    return list(contained(declared, live))


def test_fields_the_server_adds_are_not_differences():
    declared = {"spec": {"replicas": 2}}
    live = {"spec": {"replicas": 2, "revisionHistoryLimit": 10}, "status": {"replicas": 0}}
    assert differences(declared, live) == []


def test_a_changed_value_is_named_by_its_path():
    declared = {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    live = {"spec": {"ports": [{"port": 80, "targetPort": 9090, "protocol": "TCP"}]}}
    assert differences(declared, live) == [("spec.ports[0].targetPort", 8080, 9090)]


def test_a_list_of_another_length_is_one_difference():
    assert differences({"args": ["a", "b"]}, {"args": ["a"]}) == [("args", ["a", "b"], ["a"])]


def test_quantities_compare_by_value_as_the_server_normalizes_them():
    assert differences({"cpu": "0.5", "memory": "1024Mi"}, {"cpu": "500m", "memory": "1Gi"}) == []
    assert differences({"cpu": "0.5"}, {"cpu": "250m"}) == [("cpu", "0.5", "250m")]


def test_empty_declarations_match_a_field_the_server_drops():
    assert differences({"metadata": {"labels": {}}, "spec": {"args": []}}, {"metadata": {}, "spec": {}}) == []


def test_a_secret_value_is_compared_by_presence_only():
    assert differences({"data": {"key": SECRET}}, {"data": {"key": "c2VjcmV0"}}) == []
    assert differences({"data": {"key": SECRET}}, {"data": {}}) == [("data.key", "[secret]", None)]


def test_the_experimental_gateway_api_channel_wins_and_each_crd_is_installed_once():
    documents = crd_documents(default_crds())
    names = [d["metadata"]["name"] for d in documents]
    assert len(names) == len(set(names)) == 16
    httproutes = next(d for d in documents if d["metadata"]["name"] == "httproutes.gateway.networking.k8s.io")
    assert httproutes["metadata"]["annotations"]["gateway.networking.k8s.io/channel"] == "experimental"
    assert "tlsroutes.gateway.networking.k8s.io" in names
