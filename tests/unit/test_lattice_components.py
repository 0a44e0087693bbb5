"""The Lattice components under mocks: what each declares, with the controller's conventions."""

from __future__ import annotations

import pytest

from components.lattice.network import ServiceNetwork
from components.lattice.target_group import TargetGroup, TargetGroupArgs
from components.model.lattice import LatticeTargets, TargetGroupPolicy
from components.model.lattice_checks import split_weights
from tests.mocks import declare

PREFIX = "application-networking.k8s.aws/"


def target_group(route_type="HTTP", mode="ip", policy=None, **targets):
    targets = targets or {"ip": {"ips": ["10.0.0.1", "10.0.0.2"]}, "instance": {"autoScalingGroup": "nodes"},
                          "alb": {"albArn": "arn:aws:elasticloadbalancing:us-west-2:111122223333:loadbalancer/app/"
                                            "internal/0123456789abcdef"}}[mode]
    args = TargetGroupArgs(cluster="cluster1", account_id="111122223333", vpc_id="vpc-0a1b2c3d4e5f60001",
                           service="checkout", namespace="shop", service_port=80, port=8080, route_type=route_type,
                           targets=LatticeTargets(mode=mode, **targets), policy=policy, source_name="checkout")
    declared = declare(lambda: TargetGroup("tg", args))
    return declared, declared.one("vpclattice/targetGroup:TargetGroup")["inputs"]


def test_http_export_is_an_http1_target_group_with_the_controller_health_check():
    _, tg = target_group("HTTP")
    assert (tg["name"], tg["type"]) == ("k8s-checkout-shop-80-http-http1", "IP")
    assert (tg["config"]["protocol"], tg["config"]["protocolVersion"], tg["config"]["port"]) == ("HTTP", "HTTP1", 8080)
    assert tg["config"]["healthCheck"] == {
        "enabled": True, "path": "/", "matcher": {"value": "200"}, "healthCheckIntervalSeconds": 30,
        "healthCheckTimeoutSeconds": 5, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2,
        "protocol": "HTTP", "protocolVersion": "HTTP1"}


@pytest.mark.parametrize("route_type, protocol, version", [("GRPC", "HTTP", "GRPC"), ("TLS", "TCP", None)])
def test_grpc_and_tls_exports_map_to_their_protocol_with_health_checks_off(route_type, protocol, version):
    _, tg = target_group(route_type)
    assert (tg["config"]["protocol"], tg["config"].get("protocolVersion")) == (protocol, version)
    assert tg["config"]["healthCheck"] == {"enabled": False}


def test_target_group_carries_the_controller_tag_keys():
    _, tg = target_group()
    assert tg["tags"] == {
        f"{PREFIX}ManagedBy": "111122223333/cluster1/vpc-0a1b2c3d4e5f60001",
        f"{PREFIX}ClusterName": "cluster1",
        f"{PREFIX}ServiceName": "checkout",
        f"{PREFIX}ServiceNamespace": "shop",
        f"{PREFIX}SourceTypeKey": "ServiceExport",
        f"{PREFIX}ProtocolVersion": "HTTP1",
    }


def test_target_group_policy_overrides_protocol_version_and_health_check():
    policy = TargetGroupPolicy.model_validate({
        "apiVersion": "application-networking.k8s.aws/v1alpha1", "kind": "TargetGroupPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"targetRef": {"group": "", "kind": "Service", "name": "checkout"}, "protocolVersion": "HTTP2",
                 "healthCheck": {"enabled": True, "path": "/healthz", "statusMatch": "200-299"}}})
    _, tg = target_group(policy=policy)
    assert tg["config"]["protocolVersion"] == "HTTP2"
    assert tg["name"] == "k8s-checkout-shop-80-http-http2"
    assert (tg["config"]["healthCheck"]["enabled"], tg["config"]["healthCheck"]["path"],
            tg["config"]["healthCheck"]["matcher"]) == (True, "/healthz", {"value": "200-299"})


def test_ip_mode_attaches_each_address_on_the_target_port():
    declared, _ = target_group(mode="ip")
    targets = [r["inputs"]["target"] for r in declared.of_type("targetGroupAttachment:TargetGroupAttachment")]
    assert targets == [{"id": "10.0.0.1", "port": 8080}, {"id": "10.0.0.2", "port": 8080}]


def test_instance_mode_attaches_the_node_group_as_a_lattice_traffic_source():
    declared, tg = target_group(mode="instance")
    attachment = declared.one("autoscaling/trafficSourceAttachment:TrafficSourceAttachment")["inputs"]
    assert attachment["autoscalingGroupName"] == "nodes"
    assert attachment["trafficSource"]["type"] == "vpc-lattice"
    assert tg["type"] == "INSTANCE"


def test_alb_mode_targets_the_load_balancer():
    declared, tg = target_group(mode="alb")
    [attachment] = declared.of_type("targetGroupAttachment:TargetGroupAttachment")
    assert attachment["inputs"]["target"]["id"].startswith("arn:aws:elasticloadbalancing:")
    assert tg["type"] == "ALB"


def test_service_network_with_an_iam_auth_policy_uses_aws_iam():
    policy = '{"Version": "2012-10-17", "Statement": []}'
    declared = declare(lambda: ServiceNetwork("net", "fabric-network", policy, {}))
    network = declared.one("vpclattice/serviceNetwork:ServiceNetwork")["inputs"]
    assert (network["name"], network["authType"]) == ("fabric-network", "AWS_IAM")
    assert declared.one("vpclattice/authPolicy:AuthPolicy")["inputs"]["policy"] == policy


def test_service_network_without_a_policy_has_no_auth():
    declared = declare(lambda: ServiceNetwork("net", "fabric-network", None, {}))
    assert declared.one("vpclattice/serviceNetwork:ServiceNetwork")["inputs"]["authType"] == "NONE"
    assert declared.of_type("vpclattice/authPolicy:AuthPolicy") == []


def test_service_network_name_outside_the_api_limits_is_refused_before_declaring():
    with pytest.raises(ValueError, match="service network name 'ab' must be 3-63 characters"):
        declare(lambda: ServiceNetwork("net", "ab", None, {}))


def test_weight_of_an_import_matching_two_clusters_is_shared_keeping_the_rule_proportions():
    assert split_weights([50, 50], [1, 2]) == [[100], [50, 50]]
    assert split_weights([1], [3]) == [[1, 1, 1]]
    assert split_weights([1, 1], [1, 1]) == [[1], [1]]


def test_weights_too_large_to_scale_are_split_with_the_remainder_first():
    assert split_weights([999, 10], [1, 3]) == [[999], [4, 3, 3]]
