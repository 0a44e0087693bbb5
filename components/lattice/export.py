"""ServiceExport: an exported Service's VPC Lattice target groups, as the AWS Gateway API Controller makes them.

Used alone (no fabric.yaml), its arguments are validated by the models `clusterfabric validate` uses: the
ServiceExport CR they stand for and the cluster's Lattice settings, so a bad port is refused with the same
message. In the fabric the Lattice cluster component gives it the target groups the fabric decided
(`ServiceExport.planned`, components/component.py). No `from __future__ import annotations` here: the component
provider host reads these annotations as types to infer the package's schema (components/plugin).
"""

from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi

from ..component import Component
from ..model.errors import InputError, Problem
from ..model.fabric_yaml import ClusterSpec
from ..model.lattice import API_VERSION, FEDERATION, FEDERATION_VALUE, SERVICE_NAME, TAGS
from ..model.lattice import ServiceExport as ServiceExportModel
from ..model.lattice_imports import LatticeExport, scope_of
from ..model.lattice_fabric import Where, export_target_groups
from ..model.validation import parse, whole_numbers
from ..moved import Moved
from .target_group import TargetGroup, TargetGroupPlan


class ExportedPortArgs(TypedDict):
    port: int
    """The Service port exported, 1-65535."""
    route_type: str
    """HTTP, GRPC or TLS: the kind of route that reaches it; sets the target group's protocol (HTTP/HTTP1,
    HTTP/GRPC, TCP)."""
    target_port: NotRequired[int]
    """Where the targets listen, 1-65535: the NodePort (targets mode instance), the pods' port (ip), the ALB's
    listener port (alb). Default: `port`."""


class TargetsArgs(TypedDict):
    mode: str
    """instance (an Auto Scaling group of nodes), ip (addresses) or alb (an internal Application Load Balancer)."""
    auto_scaling_group: NotRequired[str]
    """instance: the node group's Auto Scaling group name (1-1600 characters), attached as a traffic source."""
    ips: NotRequired[list[str]]
    """ip: the targets' IP addresses."""
    alb_arn: NotRequired[str]
    """alb: the load balancer's ARN."""


class ServiceExportArgs(TypedDict):
    name: str
    """The export's name, the multi-cluster service's: a Kubernetes name without '.' (the controller names its
    target groups after it)."""
    namespace: str
    """The export's namespace (a DNS label)."""
    exported_ports: list[ExportedPortArgs]
    """The ports exported, at least one; each gets its target groups."""
    cluster: str
    """The exporting cluster's name (a DNS label): in the target groups' names and the controller's tags."""
    account_id: str
    """The AWS account (12 digits) of the target groups."""
    region: str
    """Its Region, e.g. us-west-2."""
    vpc_id: str
    """The VPC the targets are in (vpc- and 8 or 17 hex digits)."""
    targets: TargetsArgs
    """Where the traffic lands."""
    service: NotRequired[str]
    """The Kubernetes Service exported (a DNS-1035 label); default: `name`."""
    consumers: NotRequired[list[str]]
    """The Lattice services (their names) that forward to this export: a target group serves the listeners of one
    service only, so each gets its own. None: one target group no service uses yet."""
    tags: NotRequired[dict[str, str]]
    """Extra tags of the target groups, as the controller takes them from its tags annotation: keys up to 128
    characters, values 1-256, not `aws:`, at most 50; it drops the others, with a warning."""


class ExportedTargetGroup(TypedDict):
    port: int
    """The exported port it serves."""
    consumer: NotRequired[str]
    """The Lattice service it serves (absent: the target group of an export nobody uses yet)."""
    name: str
    """The target group's name."""
    arn: str
    """The target group's ARN: what the consumer's forward actions name."""


@dataclass(frozen=True)
class ServiceExportPlan:
    """What a ServiceExport declares: its target groups with their targets, named `{prefix}-{target group}`."""

    prefix: str
    groups: tuple[TargetGroupPlan, ...]
    moved: Moved | None = None
    """Where release 0.2 declared them (the fabric's Lattice cluster), for their aliases."""


class ServiceExport(Component[ServiceExportPlan]):
    """An exported Service: a target group per exported port and consuming Lattice service, with its targets and
    the controller's tags. `target_groups`: each one's port, consumer, name and ARN."""

    MODULE = "lattice"
    target_groups: pulumi.Output[list[ExportedTargetGroup]]

    def __init__(self, name: str, args: ServiceExportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._make(name, plan(name, args), opts)  # refused before anything is registered

    def _declare(self, name: str, export_plan: ServiceExportPlan) -> None:
        self.groups = [TargetGroup(f"{export_plan.prefix}-{g.spec.name}", g, pulumi.ResourceOptions(parent=self),
                                   export_plan.moved) for g in export_plan.groups]
        specs = [g.spec for g in self.groups]
        self.target_groups = pulumi.Output.all(*(g.arn for g in self.groups)).apply(
            lambda arns: [{"port": s.port, "name": s.name, "arn": arn,
                           **({"consumer": s.consumer} if s.consumer else {})} for s, arn in zip(specs, arns)])
        self.register_outputs({"target_groups": self.target_groups})


def plan(name: str, args: ServiceExportArgs) -> ServiceExportPlan:
    """The target groups of a ServiceExport used alone, or InputError naming the component, object and field."""
    where = f"{ServiceExport.TOKEN} {name}"
    obj = f"ServiceExport/{args['namespace']}/{args['name']}"
    annotations = {FEDERATION: FEDERATION_VALUE}
    if "service" in args:
        annotations[SERVICE_NAME] = args["service"]
    if args.get("tags"):
        annotations[TAGS] = ",".join(f"{k}={v}" for k, v in args["tags"].items())
    ports = args["exported_ports"]
    export = parse(ServiceExportModel, {
        "apiVersion": API_VERSION, "kind": "ServiceExport",
        "metadata": {"name": args["name"], "namespace": args["namespace"], "annotations": annotations},
        "spec": {"exportedPorts": [{"port": whole_numbers(p["port"]), "routeType": p["route_type"]} for p in ports]},
    }, where, obj)
    if not ports:
        raise InputError([Problem(where, obj, "spec.exportedPorts",
                                  "at least one exported port: there is no Service here to take them from")])
    for dropped in export.dropped_annotations():
        pulumi.log.warn(f"{where}: {obj}: tags: {dropped}: dropped, as the controller drops them")
    targets = args["targets"]
    cluster = parse(ClusterSpec, {"name": args["cluster"], "dataplane": "lattice", "lattice": {
        "accountId": args["account_id"], "region": args["region"], "vpcId": args["vpc_id"],
        "targets": {"mode": targets["mode"], **{field: targets[key] for key, field in TARGET_FIELDS.items()
                                                 if key in targets}}}}, where, obj)
    settings = cluster.lattice
    assert settings is not None
    groups = []
    for i, exported in enumerate(export.spec.exportedPorts):
        found = LatticeExport(cluster.name, settings.vpcId, export.metadata.name, export.metadata.namespace,
                              exported.port, exported.routeType, scope_of(cluster))
        target_port = whole_numbers(ports[i].get("target_port", exported.port))
        for spec in export_target_groups(cluster, found, export, None, args.get("consumers", []),
                                         Where(where, obj, f"spec.exportedPorts[{i}]")):
            groups.append(TargetGroupPlan(spec=spec, cluster=cluster.name, account_id=settings.accountId,
                                          vpc_id=settings.vpcId, targets=settings.targets, target_port=target_port))
    return ServiceExportPlan(name, tuple(groups))


TARGET_FIELDS = {"auto_scaling_group": "autoScalingGroup", "ips": "ips", "alb_arn": "albArn"}
