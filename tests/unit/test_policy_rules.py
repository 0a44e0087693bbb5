"""Every rule of the policy pack, with a passing and a failing input each."""

from __future__ import annotations

import sys

from clusterfabric.toolchain import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "policy"))
import rules  # noqa: E402

SN, SVC = "aws:vpclattice/serviceNetwork:ServiceNetwork", "aws:vpclattice/service:Service"
RULE, LISTENER = "aws:vpclattice/listenerRule:ListenerRule", "aws:vpclattice/listener:Listener"
URN = "urn:pulumi:s::p::t::name"
CL = "kubernetes:clusterlink.net/v1alpha1:"


def allow_policy(namespace="shop", frm=None, kind="AccessPolicy"):
    return (f"{CL}{kind}", {"metadata": {"name": "p", "namespace": namespace},
                            "spec": {"action": "allow", "from": frm or [{"workloadSelector": {}}],
                                     "to": [{"workloadSelector": {}}]}}, URN)


def test_service_network_needs_aws_iam():
    assert rules.lattice_network_auth(SN, {"name": "n", "authType": "AWS_IAM"}, URN) == []
    assert "uses auth type NONE" in rules.lattice_network_auth(SN, {"name": "n", "authType": "NONE"}, URN)[0]


def test_service_without_its_own_auth_is_advised():
    assert rules.lattice_service_auth(SVC, {"name": "s", "authType": "AWS_IAM"}, URN) == []
    assert "relies on its service network's" in rules.lattice_service_auth(SVC, {"name": "s", "authType": "NONE"}, URN)[0]


def test_auth_policy_must_name_principals_or_add_a_condition():
    rtype = "aws:vpclattice/authPolicy:AuthPolicy"
    named = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]}'
    anyone = '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}'
    conditioned = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Condition": {"StringEquals": {}}}]}'
    assert rules.lattice_auth_policy_principals(rtype, {"policy": named}, URN) == []
    assert rules.lattice_auth_policy_principals(rtype, {"policy": conditioned}, URN) == []
    assert 'allows Principal "*" without a Condition' in rules.lattice_auth_policy_principals(rtype, {"policy": anyone}, URN)[0]


def test_lattice_names_ports_and_priorities_within_limits():
    assert rules.lattice_limits(SVC, {"name": "checkout-default"}, URN) == []
    assert "must not start with 'svc-'" in rules.lattice_limits(SVC, {"name": "svc-checkout"}, URN)[0]
    assert "listener port 70000 is outside 1-65535" in rules.lattice_limits(LISTENER, {"name": "http-80", "port": 70000}, URN)[0]
    assert "rule priority 101 is outside 1-100" in rules.lattice_limits(RULE, {"name": "r-r1", "priority": 101}, URN)[0]


def test_forward_action_needs_1_to_10_groups_and_a_positive_weight():
    ok = {"action": {"forward": {"targetGroups": [{"targetGroupIdentifier": "a", "weight": 1}]}}}
    zero = {"action": {"forward": {"targetGroups": [{"targetGroupIdentifier": "a", "weight": 0}]}}}
    many = {"defaultAction": {"forwards": [{"targetGroups": [{"targetGroupIdentifier": str(i), "weight": 1}
                                                             for i in range(11)]}]}}
    assert rules.lattice_forward_actions(RULE, ok, URN) == []
    assert "positive total weight" in rules.lattice_forward_actions(RULE, zero, URN)[0]
    assert "has 11 entries" in rules.lattice_forward_actions(LISTENER, many, URN)[0]


def test_import_target_port_in_the_registered_range():
    imp = lambda port: {"metadata": {"name": "cart", "namespace": "shop"}, "spec": {"targetPort": port}}  # noqa: E731
    assert rules.import_target_port(f"{CL}Import", imp(20000), URN) == []
    assert "targetPort 80, outside 1024-49151" in rules.import_target_port(f"{CL}Import", imp(80), URN)[0]


def test_no_two_imports_share_a_target_port():
    imp = lambda name, port: (f"{CL}Import", {"metadata": {"name": name, "namespace": "shop"},  # noqa: E731
                                               "spec": {"targetPort": port}}, URN)
    assert rules.unique_target_ports([imp("a", 2000), imp("b", 2001)]) == []
    assert rules.unique_target_ports([imp("b", 2000), imp("a", 2000)]) == [
        "Imports shop/a and shop/b share targetPort 2000; each needs its own data plane port."]


def test_exports_and_imports_need_a_policy_that_can_allow_them():
    export = (f"{CL}Export", {"metadata": {"name": "cart", "namespace": "shop"}, "spec": {"port": 80}}, URN)
    imp = (f"{CL}Import", {"metadata": {"name": "cart", "namespace": "shop"},
                           "spec": {"sources": [{"peer": "east", "exportName": "cart", "exportNamespace": "shop"}]}}, URN)
    assert rules.clusterlink_access([export, imp, allow_policy()]) == []
    only_prod = [{"workloadSelector": {"matchLabels": {"peer.clusterlink.net/labels.env": "prod"}}}]
    assert rules.clusterlink_access([export, allow_policy(frm=only_prod)]) == []  # some importer may match
    problems = rules.clusterlink_access([export, imp, allow_policy(namespace="other")])
    assert [p.split(" has ")[0] for p in problems] == ["Export shop/cart", "Import shop/cart (from peer 'east')"]


def test_privileged_access_policy_is_advised_against():
    assert rules.privileged_access_policy(f"{CL}AccessPolicy", {}, URN) == []
    assert "applies to every namespace" in rules.privileged_access_policy(
        f"{CL}PrivilegedAccessPolicy", {"metadata": {"name": "deny"}}, URN)[0]


def test_cluster_rbac_only_inside_the_clusterlink_platform():
    rtype = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
    inside = "urn:pulumi:s::p::clusterfabric:clusterlink:Platform$kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::x"
    assert rules.cluster_rbac(rtype, {"metadata": {"name": "cl-controlplane"}}, inside) == []
    assert "outside the ClusterLink platform" in rules.cluster_rbac(rtype, {"metadata": {"name": "r"}}, URN)[0]


def test_secret_data_and_private_keys_must_be_pulumi_secrets():
    pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
    secret = "kubernetes:core/v1:Secret"
    marked = {"metadata": {"name": "tls", "namespace": "ns"}, "stringData": {"key": rules.Secret(pem)}}
    assert rules.secrets_are_secret(secret, marked, URN) == []
    plain = {"metadata": {"name": "tls", "namespace": "ns"}, "stringData": {"key": "value"}}
    assert rules.secrets_are_secret(secret, plain, URN) == [
        "Secret ns/tls: stringData.key is not a Pulumi secret, so it would be stored in plaintext in the state; wrap "
        "it in pulumi.Output.secret."]
    assert "holds a private key in plaintext" in rules.secrets_are_secret("kubernetes:core/v1:ConfigMap",
                                                                          {"data": {"k": pem}}, URN)[0]


def test_exported_service_is_not_a_public_load_balancer_unless_marked():
    export = (f"{CL}Export", {"metadata": {"name": "cart", "namespace": "shop"}, "spec": {"host": "cart"}}, URN)
    service = lambda annotations: ("kubernetes:core/v1:Service", {  # noqa: E731
        "metadata": {"name": "cart", "namespace": "shop", "annotations": annotations},
        "spec": {"type": "LoadBalancer"}}, URN)
    assert rules.exposed_exports([export, service({"clusterfabric.io/public": "true"})]) == []
    assert "is exported and also a LoadBalancer" in rules.exposed_exports([export, service({})])[0]
