"""The Lattice components under mocks: what each declares, with the controller's conventions."""

from __future__ import annotations

import pytest

from clusterfabric.components.lattice.network import ServiceNetwork
from clusterfabric.components.model.errors import InputError
from clusterfabric.components.lattice.target_group import TargetGroup, TargetGroupPlan
from clusterfabric.components.model.lattice import LatticeTargets, TargetGroupPolicy
from clusterfabric.components.model.lattice_fabric import TargetGroupSpec, Where, split_weights, target_group_protocol
from tests.mocks import declare

PREFIX = "application-networking.k8s.aws/"
# The controller's health check of an HTTP target group (fillDefaultHealthCheckConfig), but for `enabled`.
CONTROLLER_CHECK = {"path": "/", "matcher": {"value": "200"}, "healthCheckIntervalSeconds": 30,
                    "healthCheckTimeoutSeconds": 5, "healthyThresholdCount": 5, "unhealthyThresholdCount": 2,
                    "protocol": "HTTP", "protocolVersion": "HTTP1"}
TARGETS = {"ip": {"ips": ["10.0.0.1", "10.0.0.2"]}, "instance": {"autoScalingGroup": "nodes"},
           "alb": {"albArn": "arn:aws:elasticloadbalancing:us-west-2:111122223333:loadbalancer/app/internal/"
                             "0123456789abcdef"}}


def target_group(route_type="HTTP", mode="ip", policy=None, consumer="checkout-shop"):
    """The target group of export shop/checkout, port 80 (pods on 8080), serving Lattice service `consumer`."""
    protocol, version = target_group_protocol("ServiceExport", route_type, policy)
    spec = TargetGroupSpec("cluster1", ("111122223333", "us-west-2"), "k8s-cluster1-shop-checkout-80-0123abcd",
                           "ServiceExport", "shop", "checkout", "shop", "checkout", 80, route_type, protocol, version,
                           consumer, policy, {}, Where("exports.yaml", "ServiceExport/shop/checkout", "metadata.name"))
    args = TargetGroupPlan(spec=spec, cluster="cluster1", account_id="111122223333", vpc_id="vpc-0a1b2c3d4e5f60001",
                           targets=LatticeTargets(mode=mode, **TARGETS[mode]), target_port=8080)
    declared = declare(lambda: TargetGroup("tg", args))
    return declared, declared.one("vpclattice/targetGroup:TargetGroup")["inputs"]


def test_http_export_is_an_http1_target_group_on_the_exported_port_with_the_controller_health_check():
    _, tg = target_group("HTTP")
    assert (tg["name"], tg["type"]) == ("k8s-cluster1-shop-checkout-80-0123abcd", "IP")
    assert (tg["config"]["protocol"], tg["config"]["protocolVersion"], tg["config"]["port"]) == ("HTTP", "HTTP1", 80)
    assert tg["config"]["healthCheck"] == {"enabled": True, **CONTROLLER_CHECK}


def test_grpc_export_has_the_controllers_full_health_check_block_turned_off_checking_over_http1():
    _, tg = target_group("GRPC")
    assert (tg["config"]["protocol"], tg["config"]["protocolVersion"]) == ("HTTP", "GRPC")
    assert tg["config"]["healthCheck"] == {"enabled": False, **CONTROLLER_CHECK}


def test_tls_export_is_a_tcp_target_group_whose_health_check_is_only_turned_off():
    _, tg = target_group("TLS")
    assert (tg["config"]["protocol"], tg["config"].get("protocolVersion")) == ("TCP", None)
    assert tg["config"]["healthCheck"] == {"enabled": False}


def test_target_group_carries_the_controller_tag_keys_and_the_service_it_serves():
    _, tg = target_group()
    assert tg["tags"] == {
        f"{PREFIX}ManagedBy": "111122223333/cluster1/vpc-0a1b2c3d4e5f60001",
        f"{PREFIX}ClusterName": "cluster1",
        f"{PREFIX}ServiceName": "checkout",
        f"{PREFIX}ServiceNamespace": "shop",
        f"{PREFIX}ProtocolVersion": "HTTP1",
        "clusterfabric.io/consumer-service": "checkout-shop",
    }


def test_target_group_of_an_export_nobody_consumes_has_the_controllers_source_type_and_no_consumer_tag():
    _, tg = target_group(consumer=None)
    assert tg["tags"][f"{PREFIX}SourceTypeKey"] == "ServiceExport"
    assert "clusterfabric.io/consumer-service" not in tg["tags"]


def test_target_group_policy_overrides_protocol_version_and_health_check():
    policy = TargetGroupPolicy.model_validate({
        "apiVersion": "application-networking.k8s.aws/v1alpha1", "kind": "TargetGroupPolicy",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"targetRef": {"group": "", "kind": "Service", "name": "checkout"}, "protocolVersion": "HTTP2",
                 "healthCheck": {"enabled": True, "path": "/healthz", "statusMatch": "200-299"}}})
    _, tg = target_group(policy=policy)
    assert tg["config"]["protocolVersion"] == "HTTP2"
    assert tg["config"]["healthCheck"] == {**CONTROLLER_CHECK, "enabled": True, "path": "/healthz",
                                           "matcher": {"value": "200-299"}, "protocolVersion": "HTTP2"}


def test_ip_mode_attaches_each_address_on_the_target_port():
    declared, _ = target_group(mode="ip")
    targets = [r["inputs"]["target"] for r in declared.of_type("targetGroupAttachment:TargetGroupAttachment")]
    assert targets == [{"id": "10.0.0.1", "port": 8080}, {"id": "10.0.0.2", "port": 8080}]


def test_instance_mode_attaches_the_node_group_on_the_node_port_as_the_target_groups_own():
    declared, tg = target_group(mode="instance")
    attachment = declared.one("autoscaling/trafficSourceAttachment:TrafficSourceAttachment")["inputs"]
    assert attachment["autoscalingGroupName"] == "nodes"
    assert attachment["trafficSource"]["type"] == "vpc-lattice"
    assert (tg["type"], tg["config"]["port"]) == ("INSTANCE", 8080)  # the instances register on it


def test_alb_mode_targets_the_load_balancer_which_lattice_does_not_health_check():
    declared, tg = target_group(mode="alb")
    [attachment] = declared.of_type("targetGroupAttachment:TargetGroupAttachment")
    assert attachment["inputs"]["target"]["id"].startswith("arn:aws:elasticloadbalancing:")
    assert tg["type"] == "ALB" and "healthCheck" not in tg["config"]


def test_service_network_with_an_iam_auth_policy_uses_aws_iam():
    policy = '{"Version": "2012-10-17", "Statement": []}'
    declared = declare(lambda: ServiceNetwork("net", {"name": "fabric-network", "auth_policy": policy}))
    network = declared.one("vpclattice/serviceNetwork:ServiceNetwork")["inputs"]
    assert (network["name"], network["authType"]) == ("fabric-network", "AWS_IAM")
    assert declared.one("vpclattice/authPolicy:AuthPolicy")["inputs"]["policy"] == policy


def test_service_network_without_a_policy_has_no_auth():
    declared = declare(lambda: ServiceNetwork("net", {"name": "fabric-network"}))
    assert declared.one("vpclattice/serviceNetwork:ServiceNetwork")["inputs"]["authType"] == "NONE"
    assert declared.of_type("vpclattice/authPolicy:AuthPolicy") == []


def test_service_network_name_outside_the_api_limits_is_refused_before_declaring():
    with pytest.raises(InputError) as refused:
        ServiceNetwork("net", {"name": "ab"})
    assert str(refused.value) == ("clusterfabric:lattice:ServiceNetwork net: ServiceNetwork/ab: name: service network "
                                  "name 'ab' must be 3-63 characters (has 2)")


def test_weight_of_an_import_matching_two_clusters_is_shared_keeping_the_rule_proportions():
    assert split_weights([50, 50], [1, 2]) == [[100], [50, 50]]
    assert split_weights([1], [3]) == [[1, 1, 1]]
    assert split_weights([1, 1], [1, 1]) == [[1], [1]]


def test_weights_too_large_to_scale_are_split_with_the_remainder_first():
    assert split_weights([999, 10], [1, 3]) == [[999], [4, 3, 3]]


def test_a_weight_too_small_to_split_gives_each_matching_cluster_1_not_0():
    assert split_weights([999, 1], [1, 2]) == [[999], [1, 1]]


def test_a_backend_of_weight_0_stays_at_0_in_every_cluster_it_matches():
    assert split_weights([999, 0], [1, 2]) == [[999], [0, 0]]
