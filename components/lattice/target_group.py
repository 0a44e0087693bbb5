"""A target group as the fabric decided it (components.model.lattice_fabric), with its targets by the cluster's
configured mode."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..model.lattice import HealthCheck, LatticeTargets
from ..model.lattice_fabric import TargetGroupSpec
from ..model.limits import HEALTH_CHECK, PORT, PROTOCOL_VERSIONS, PROTOCOLS, check, in_range
from ..moved import Moved, moved_options

TAG_PREFIX = "application-networking.k8s.aws/"
CONSUMER_TAG = "clusterfabric.io/consumer-service"
"""Which Lattice service a target group serves: the one tag the controller does not write."""
TYPE_BY_MODE = {"instance": "INSTANCE", "ip": "IP", "alb": "ALB"}
# Type tokens of what a target group declares (the aliases of release 0.2's URNs name them).
TARGET_GROUP_TYPE = "aws:vpclattice/targetGroup:TargetGroup"
ATTACHMENT_TYPE = "aws:vpclattice/targetGroupAttachment:TargetGroupAttachment"
TRAFFIC_SOURCE_TYPE = "aws:autoscaling/trafficSourceAttachment:TrafficSourceAttachment"


class TargetGroupPlan(BaseModel):
    """A target group as planned: what it is (`spec`), and where its cluster's targets are."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: TargetGroupSpec
    cluster: str
    account_id: str
    vpc_id: str
    targets: LatticeTargets
    target_port: int
    """Where the pods are reached: the Service's NodePort (instance), target port (ip) or port (alb)."""

    @property
    def port(self) -> int:
        """The target group's own port: the exported (or backend) Service port, as the controller sets it. In
        instance mode the NodePort instead: an Auto Scaling group attached as a traffic source registers its
        instances on the target group's port, and the pods are reached there."""
        return self.target_port if self.targets.mode == "instance" else self.spec.port


# The controller's default health check (target_group_manager.getDefaultHealthCheckConfig): on for HTTP1, off
# otherwise but written out in full; for GRPC the check itself speaks HTTP1. A TCP target group gets only
# `enabled: false`.
DEFAULT_HEALTH_CHECK = {"path": "/", "matcher": {"value": "200"}, "health_check_interval_seconds": 30,
                        "health_check_timeout_seconds": 5, "healthy_threshold_count": 5,
                        "unhealthy_threshold_count": 2, "protocol": "HTTP"}
POLICY_FIELDS = {"enabled": "enabled", "path": "path", "port": "port", "protocol": "protocol",
                 "protocolVersion": "protocol_version", "intervalSeconds": "health_check_interval_seconds",
                 "timeoutSeconds": "health_check_timeout_seconds", "healthyThresholdCount": "healthy_threshold_count",
                 "unhealthyThresholdCount": "unhealthy_threshold_count"}


def health_check(protocol: str, version: str | None, override: HealthCheck | None) -> dict[str, Any]:
    """The policy's fields over the controller's defaults for this protocol (fillDefaultHealthCheckConfig)."""
    if protocol == "TCP":
        hc: dict[str, Any] = {"enabled": False}
    else:
        version = version or "HTTP1"
        hc = {"enabled": version == "HTTP1", **DEFAULT_HEALTH_CHECK,
              "protocol_version": "HTTP1" if version == "GRPC" else version}
    if override:
        hc.update({target: getattr(override, source) for source, target in POLICY_FIELDS.items()
                   if getattr(override, source) is not None})
        if override.statusMatch:
            hc["matcher"] = {"value": override.statusMatch}
    for source, target in POLICY_FIELDS.items():
        if source in HEALTH_CHECK and target in hc:
            check(in_range(f"health check {source}", hc[target], HEALTH_CHECK[source]))
    return hc


def tags(plan: TargetGroupPlan) -> dict[str, str]:
    """The controller's exact tag keys, so controller-made and program-made target groups find each other, and
    which service the target group serves."""
    spec = plan.spec
    exported = spec.source_kind == "ServiceExport"
    found = {
        f"{TAG_PREFIX}ManagedBy": f"{plan.account_id}/{plan.cluster}/{plan.vpc_id}",
        f"{TAG_PREFIX}ClusterName": plan.cluster,
        f"{TAG_PREFIX}ServiceName": spec.source_name if exported else spec.service,
        f"{TAG_PREFIX}ServiceNamespace": spec.namespace,
        f"{TAG_PREFIX}ProtocolVersion": spec.version or "",
    }
    if not (exported and spec.consumer):
        # A controller resolving a ServiceImport takes the first target group tagged SourceTypeKey=ServiceExport
        # with the export's name and namespace (findSvcExportTG): never one a fabric service forwards to, which
        # Lattice would refuse it ("associated with other services").
        found[f"{TAG_PREFIX}SourceTypeKey"] = spec.source_kind
    if not exported:
        found[f"{TAG_PREFIX}RouteName"] = spec.source_name
        found[f"{TAG_PREFIX}RouteNamespace"] = spec.source_namespace
    if spec.consumer:
        found[CONSUMER_TAG] = spec.consumer
    return {**spec.user_tags, **found}


class TargetGroup:
    """The target group, its targets (attachments) parented to it. Declared directly, not as a component
    (components/moved.py): `opts` places the target group (parent, provider). No alias to release 0.1: its name
    changed (unique per account and Region, one per consuming service), so it is a new target group. `moved`:
    where release 0.2 declared it, when it moved into a component since."""

    target_group: aws.vpclattice.TargetGroup
    arn: pulumi.Output[str]
    name: str
    spec: TargetGroupSpec

    def __init__(self, name: str, plan: TargetGroupPlan, opts: pulumi.ResourceOptions | None = None,
                 moved: Moved | None = None):
        spec = self.spec = plan.spec
        check(in_range("target group port", plan.port, PORT),
              None if spec.protocol in PROTOCOLS["target group"] else f"target group protocol {spec.protocol}",
              None if spec.version in (None, *PROTOCOL_VERSIONS) else f"protocol version {spec.version}")
        self.name = spec.name
        kind = TYPE_BY_MODE[plan.targets.mode]
        config: dict[str, Any] = {"port": plan.port, "protocol": spec.protocol, "vpc_identifier": plan.vpc_id}
        if kind != "ALB":  # Lattice does not health-check an ALB target group (the ALB does)
            config["health_check"] = health_check(spec.protocol, spec.version,
                                                  spec.policy.spec.healthCheck if spec.policy else None)
        if spec.version:
            config["protocol_version"] = spec.version
        if kind == "IP":
            config["ip_address_type"] = "IPV4"
        opts = opts or pulumi.ResourceOptions()
        self.target_group = aws.vpclattice.TargetGroup(
            name, name=self.name, type=kind, config=config, tags=tags(plan),
            opts=moved_options(moved, opts, (TARGET_GROUP_TYPE,), name))
        self.arn = self.target_group.arn
        self._targets(name, plan, pulumi.ResourceOptions(parent=self.target_group, provider=opts.provider), moved)

    def _targets(self, name: str, plan: TargetGroupPlan, child: pulumi.ResourceOptions, moved: Moved | None) -> None:
        def placed(resource_type: str, target_name: str) -> pulumi.ResourceOptions:
            return moved_options(moved, child, (TARGET_GROUP_TYPE, resource_type), target_name)

        targets = plan.targets
        if targets.mode == "instance":
            aws.autoscaling.TrafficSourceAttachment(
                f"{name}-asg", autoscaling_group_name=targets.autoScalingGroup,
                traffic_source={"identifier": self.target_group.arn, "type": "vpc-lattice"},
                opts=placed(TRAFFIC_SOURCE_TYPE, f"{name}-asg"))
            return
        found = ({f"{name}-{ip.replace(':', '-').replace('.', '-')}": ip for ip in targets.ips}
                 if targets.mode == "ip" else {f"{name}-alb": targets.albArn})
        for target_name, target in found.items():
            aws.vpclattice.TargetGroupAttachment(
                target_name, target_group_identifier=self.target_group.id,
                target={"id": target, "port": plan.target_port}, opts=placed(ATTACHMENT_TYPE, target_name))
