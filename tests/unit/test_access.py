"""ClusterLink's access decision, evaluated before deployment: default deny, deny beats allow."""

from __future__ import annotations

from clusterfabric.components.model.access import Connection, Policies, client_attributes, decisions, service_attributes
from clusterfabric.components.model.clusterlink import AccessPolicy, PrivilegedAccessPolicy


def policy(action: str, namespace: str = "shop", frm=None, to=None, privileged: bool = False):
    body = {
        "apiVersion": "clusterlink.net/v1alpha1",
        "kind": "PrivilegedAccessPolicy" if privileged else "AccessPolicy",
        "metadata": {"name": f"{action}-policy"} | ({} if privileged else {"namespace": namespace}),
        "spec": {"action": action, "from": frm or [{"workloadSelector": {}}], "to": to or [{"workloadSelector": {}}]},
    }
    return (PrivilegedAccessPolicy if privileged else AccessPolicy).model_validate(body)


CONNECTION = Connection(
    client_attributes("central", {"env": "prod"}, "shop"),
    service_attributes("east", {"env": "prod"}, "shop", "cart"),
)


def test_no_policy_means_default_deny():
    assert decisions(CONNECTION, [], []) == {"deny"}


def test_allow_all_in_the_namespace_allows():
    assert Policies(namespaced=(policy("allow"),)).allows(CONNECTION, "shop")


def test_policies_of_another_namespace_do_not_apply():
    assert not Policies(namespaced=(policy("allow", namespace="other"),)).allows(CONNECTION, "shop")


def test_deny_beats_allow_in_the_same_tier():
    assert not Policies(namespaced=(policy("allow"), policy("deny"))).allows(CONNECTION, "shop")


def test_privileged_allow_wins_over_namespaced_deny():
    assert Policies((policy("allow", privileged=True),), (policy("deny"),)).allows(CONNECTION, "shop")


def test_privileged_deny_wins_over_everything():
    assert not Policies((policy("deny", privileged=True),), (policy("allow"),)).allows(CONNECTION, "shop")


def test_selector_on_known_service_attributes_decides():
    only_cart = [{"workloadSelector": {"matchLabels": {"export.clusterlink.net/name": "cart"}}}]
    only_other = [{"workloadSelector": {"matchLabels": {"export.clusterlink.net/name": "other"}}}]
    assert Policies(namespaced=(policy("allow", to=only_cart),)).allows(CONNECTION, "shop")
    assert not Policies(namespaced=(policy("allow", to=only_other),)).allows(CONNECTION, "shop")


def test_selector_on_client_labels_may_allow_so_it_is_not_reported():
    by_app = [{"workloadSelector": {"matchLabels": {"client.clusterlink.net/labels.app": "web"}}}]
    assert decisions(CONNECTION, [], [policy("allow", frm=by_app)]) == {"allow", "deny"}


def test_deny_on_client_labels_does_not_block_every_client():
    by_app = [{"workloadSelector": {"matchLabels": {"client.clusterlink.net/labels.app": "batch"}}}]
    assert Policies(namespaced=(policy("deny", frm=by_app), policy("allow"))).allows(CONNECTION, "shop")


def test_match_expressions_on_peer_labels():
    not_prod = [{"workloadSelector": {"matchExpressions": [
        {"key": "peer.clusterlink.net/labels.env", "operator": "NotIn", "values": ["prod"]}]}}]
    assert Policies((policy("deny", frm=not_prod, privileged=True),), (policy("allow"),)).allows(CONNECTION, "shop")
    dev = Connection(client_attributes("lab", {"env": "dev"}, "shop"), CONNECTION.service)
    assert not Policies((policy("deny", frm=not_prod, privileged=True),), (policy("allow"),)).allows(dev, "shop")
