"""A target group for one Service port, with its targets by the cluster's configured mode."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..model.lattice import HealthCheck, LatticeTargets, TargetGroupPolicy
from ..model.limits import HEALTH_CHECK, PORT, PROTOCOL_VERSIONS, PROTOCOLS, check, in_range
from ..moved import FormerWrapper
from .names import target_group_name

TAG_PREFIX = "application-networking.k8s.aws/"
# The controller's protocol by the route type a port is exported for.
PROTOCOL_BY_ROUTE_TYPE = {"HTTP": ("HTTP", "HTTP1"), "GRPC": ("HTTP", "GRPC"), "TLS": ("TCP", None)}
TYPE_BY_MODE = {"instance": "INSTANCE", "ip": "IP", "alb": "ALB"}
# Type tokens of what a target group declares (its aliases from release 0.1 name them: components/moved.py).
TARGET_GROUP_TYPE = "aws:vpclattice/targetGroup:TargetGroup"
ATTACHMENT_TYPE = "aws:vpclattice/targetGroupAttachment:TargetGroupAttachment"
TRAFFIC_SOURCE_TYPE = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"


class TargetGroupArgs(BaseModel):
    """A target group's inputs, in the user's words."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    cluster: str
    account_id: str
    vpc_id: str
    service: str
    """The Kubernetes Service whose pods the traffic reaches."""
    namespace: str
    service_port: int
    """The Service port traffic is meant for (names the target group)."""
    port: int
    """The target port: the Service's NodePort (instance), target port (ip) or port (alb)."""
    route_type: str
    targets: LatticeTargets
    policy: TargetGroupPolicy | None = None
    source_kind: str = "ServiceExport"
    """What made it: ServiceExport, or the route kind for a route's local Service backend."""
    source_name: str
    """The export's name, or the route's."""
    user_tags: dict[str, str] = {}


def protocol_of(args: TargetGroupArgs) -> tuple[str, str | None]:
    protocol, version = PROTOCOL_BY_ROUTE_TYPE[args.route_type]
    if args.policy:
        protocol = args.policy.spec.protocol or protocol
        version = args.policy.spec.protocolVersion or version
    return protocol, (None if protocol == "TCP" else version)


def health_check(protocol: str, version: str | None, override: HealthCheck | None) -> dict[str, Any]:
    """The controller's defaults (HTTP1: on, /, 200, 30s, 5s, 5, 2; TCP, HTTP2, GRPC: off), then the policy's."""
    enabled = protocol != "TCP" and version == "HTTP1"
    hc: dict[str, Any] = {"enabled": enabled}
    if enabled:
        hc.update(path="/", matcher={"value": "200"}, health_check_interval_seconds=30,
                  health_check_timeout_seconds=5, healthy_threshold_count=5, unhealthy_threshold_count=2,
                  protocol=protocol if protocol in ("HTTP", "HTTPS") else "HTTP", protocol_version="HTTP1")
    if override:
        fields = {"enabled": "enabled", "path": "path", "port": "port", "protocol": "protocol",
                  "protocolVersion": "protocol_version", "intervalSeconds": "health_check_interval_seconds",
                  "timeoutSeconds": "health_check_timeout_seconds", "healthyThresholdCount": "healthy_threshold_count",
                  "unhealthyThresholdCount": "unhealthy_threshold_count"}
        for source, target in fields.items():
            value = getattr(override, source)
            if value is not None:
                hc[target] = value
        if override.statusMatch:
            hc["matcher"] = {"value": override.statusMatch}
    for source, target in (("intervalSeconds", "health_check_interval_seconds"),
                           ("timeoutSeconds", "health_check_timeout_seconds"),
                           ("healthyThresholdCount", "healthy_threshold_count"),
                           ("unhealthyThresholdCount", "unhealthy_threshold_count")):
        if target in hc:
            check(in_range(f"health check {source}", hc[target], HEALTH_CHECK[source]))
    return hc


def tags(args: TargetGroupArgs, protocol_version: str | None) -> dict[str, str]:
    """The controller's exact tag keys, so controller-made and program-made target groups find each other."""
    found = {
        f"{TAG_PREFIX}ManagedBy": f"{args.account_id}/{args.cluster}/{args.vpc_id}",
        f"{TAG_PREFIX}ClusterName": args.cluster,
        f"{TAG_PREFIX}ServiceName": args.source_name if args.source_kind == "ServiceExport" else args.service,
        f"{TAG_PREFIX}ServiceNamespace": args.namespace,
        f"{TAG_PREFIX}SourceTypeKey": args.source_kind,
        f"{TAG_PREFIX}ProtocolVersion": protocol_version or "",
    }
    if args.source_kind != "ServiceExport":
        found[f"{TAG_PREFIX}RouteName"] = args.source_name
        found[f"{TAG_PREFIX}RouteNamespace"] = args.namespace
    return {**args.user_tags, **found}


class TargetGroup:
    """The target group of one Service port, its targets (attachments) parented to it.

    Declared directly, not as a component (components/moved.py): `opts` places the target group (parent,
    provider); release 0.1's `clusterfabric:lattice:TargetGroup` wrapper is its alias."""

    target_group: aws.vpclattice.TargetGroup
    arn: pulumi.Output[str]
    name: str

    def __init__(self, name: str, args: TargetGroupArgs, opts: pulumi.ResourceOptions | None = None):
        protocol, version = protocol_of(args)
        check(in_range("target group port", args.port, PORT),
              None if protocol in PROTOCOLS["target group"] else f"target group protocol {protocol}",
              None if version in (None, *PROTOCOL_VERSIONS) else f"protocol version {version}")
        self.name = target_group_name(args.service, args.namespace, args.service_port, protocol, version)
        kind = TYPE_BY_MODE[args.targets.mode]
        config: dict[str, Any] = {"port": args.port, "protocol": protocol, "vpc_identifier": args.vpc_id,
                                  "health_check": health_check(protocol, version, args.policy.spec.healthCheck
                                                               if args.policy else None)}
        if version:
            config["protocol_version"] = version
        if kind == "IP":
            config["ip_address_type"] = "IPV4"
        opts = opts or pulumi.ResourceOptions()
        self._former = FormerWrapper("clusterfabric:lattice:TargetGroup", name, opts.parent)
        self.target_group = aws.vpclattice.TargetGroup(name, name=self.name, type=kind, config=config,
                                                       tags=tags(args, version),
                                                       opts=self._former.options(opts, TARGET_GROUP_TYPE, name))
        self.arn = self.target_group.arn
        self._targets(name, args, pulumi.ResourceOptions(parent=self.target_group, provider=opts.provider))

    def _targets(self, name: str, args: TargetGroupArgs, child: pulumi.ResourceOptions) -> None:
        targets = args.targets
        if targets.mode == "instance":
            aws.autoscaling.TrafficSourceAttachment(
                f"{name}-asg", autoscaling_group_name=targets.autoScalingGroup,
                traffic_source={"identifier": self.target_group.arn, "type": "vpc-lattice"},
                opts=self._former.options(child, TRAFFIC_SOURCE_TYPE, f"{name}-asg"))
        elif targets.mode == "ip":
            for ip in targets.ips:
                attachment = f"{name}-{ip.replace(':', '-').replace('.', '-')}"
                aws.vpclattice.TargetGroupAttachment(
                    attachment, target_group_identifier=self.target_group.id, target={"id": ip, "port": args.port},
                    opts=self._former.options(child, ATTACHMENT_TYPE, attachment))
        else:
            aws.vpclattice.TargetGroupAttachment(
                f"{name}-alb", target_group_identifier=self.target_group.id,
                target={"id": targets.albArn, "port": args.port},
                opts=self._former.options(child, ATTACHMENT_TYPE, f"{name}-alb"))
