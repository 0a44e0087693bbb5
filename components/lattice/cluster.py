"""The VPC Lattice side of one cluster, as the fabric decided it (components.model.lattice_fabric): the networks
it owns, the VPC associations it owns, its exports' and routes' target groups, and a service per route. Built
from the public components (ServiceNetwork, ServiceExport, HTTPRoute...), which a program may use alone."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..contract import deploy_first, lattice_exports_entries
from ..model import ClusterSpec
from ..model.kubernetes import Service
from ..model.lattice import IAMAuthPolicy
from ..model.lattice_imports import ExportKey, LatticeExport, scope_of
from ..model.lattice_fabric import (ExportTargetGroupKey, ForwardTarget, LatticeFabric, ServiceSpec, TargetGroupKey,
                                    TargetGroupSpec)
from ..model.load import ClusterManifests
from ..model.routes import backends, service_imports
from ..moved import FormerWrapper, Moved, urn_type
from .export import ServiceExportPlan, ServiceExport
from .network import ServiceNetwork, ServiceNetworkPlan, vpc_association
from .route import ROUTE_COMPONENTS, Route, RoutePlan, WeightedTarget
from .service_import import ServiceImport, resolved_entry
from .target_group import TargetGroup, TargetGroupPlan


def target_port(mode: str, service: Service, port: int, nodes: dict[tuple[str, str, int], int]) -> int:
    """Where the pods are reached: the NodePort (instance), the pod port (ip), the Service port (alb)."""
    if mode == "instance":
        return nodes[(service.namespace, service.name, port)]
    if mode == "ip":
        target = next(p.targetPort for p in service.spec.ports if p.port == port)
        return target if isinstance(target, int) else port
    return port


class LatticeArgs(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    spec: ClusterSpec
    manifests: ClusterManifests
    fabric: LatticeFabric
    """Every Lattice cluster's desired state: this cluster declares its part."""
    network_ids: dict[str, pulumi.Output[str] | str]
    """Service network id of every Gateway this cluster declares and does not own (from the owners' outputs)."""
    published: dict[ExportKey, LatticeExport]
    """The exports of the other stacks this cluster forwards to, as they publish them (with their target groups)."""
    node_ports: dict[tuple[str, str, int], int]


class LatticeCluster(pulumi.ComponentResource):
    """`clusterfabric:lattice:Cluster`."""

    target_groups: dict[TargetGroupKey, TargetGroup]
    networks: dict[str, ServiceNetwork]

    def __init__(self, name: str, args: LatticeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:lattice:Cluster", name, None, opts)
        self.urn_type = urn_type("clusterfabric:lattice:Cluster", opts.parent if opts else None)
        spec, m, fabric = args.spec, args.manifests, args.fabric
        s = spec.lattice
        assert s is not None
        self._args = args
        self.provider = aws.Provider(f"{name}-aws", region=s.region, allowed_account_ids=[s.accountId],
                                     opts=pulumi.ResourceOptions(parent=self))
        self._child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self._tags = {"application-networking.k8s.aws/ManagedBy": f"{s.accountId}/{spec.name}/{s.vpcId}"}

        auth = {(p.spec.targetRef.kind, p.spec.targetRef.name): p.spec.policy for p in m.of_kind(IAMAuthPolicy)}
        owned = sorted(n for (scope, n), owner in fabric.owners.items()
                       if owner == spec.name and scope == scope_of(spec))
        moved = Moved(self.urn_type)  # release 0.2 declared everything directly under this component
        self.networks = {network: ServiceNetwork.planned(f"{name}-{network}", ServiceNetworkPlan({
            "name": network, "tags": self._tags,
            **({"auth_policy": auth[("Gateway", network)]} if ("Gateway", network) in auth else {}),
            **({"access_logs": s.accessLogs} if s.accessLogs else {})}, moved), self._child)
            for network in owned}
        network_ids = {**args.network_ids, **{n: sn.network_id for n, sn in self.networks.items()}}
        for association in fabric.associations_of(spec.name):
            association_name = f"{name}-{association.network}-vpc"
            vpc_association(association_name, network_ids[association.network], association.vpc,
                            association.security_groups, self._tags, self._child,
                            FormerWrapper("clusterfabric:lattice:VpcAssociation", association_name, self))
        groups = fabric.target_groups_of(spec.name)
        self.exports = self._exports(name, [tg for tg in groups.values() if tg.source_kind == "ServiceExport"], moved)
        self.target_groups = {tg.spec.key: tg for export in self.exports for tg in export.groups}
        self.target_groups.update({key: TargetGroup(f"{name}-{tg.name}", self._target_group_plan(tg), self._child)
                                   for key, tg in groups.items() if tg.source_kind != "ServiceExport"})
        self.imports = self._imports(name)
        self.routes = [self._route(name, service, auth, network_ids) for service in fabric.services_of(spec.name)]
        self.register_outputs({"networks": sorted(self.networks), "targetGroups": len(self.target_groups)})

    def _exports(self, name: str, groups: list[TargetGroupSpec], moved: Moved) -> list[ServiceExport]:
        """A ServiceExport per exported object, with its target groups (named as release 0.2 named them)."""
        by_export: dict[tuple[str, str], list[TargetGroupSpec]] = {}
        for tg in groups:
            by_export.setdefault((tg.source_namespace, tg.source_name), []).append(tg)
        return [ServiceExport.planned(f"{name}-{namespace}-{export}", ServiceExportPlan(
            name, tuple(self._target_group_plan(tg) for tg in found), moved), self._child)
            for (namespace, export), found in by_export.items()]

    def _imports(self, name: str) -> list[ServiceImport]:
        """A ServiceImport per imported object, with the exports its routes' backends naming it reach."""
        resolved = self._args.fabric.resolved.get(self._args.spec.name, {})
        reached: dict[tuple[str, str], dict[LatticeExport, None]] = {
            key: {} for key in service_imports(self._args.manifests)}
        for backend in backends(self._args.manifests):
            imp = backend.service_import
            if imp is not None:
                reached[(imp.metadata.namespace, imp.metadata.name)].update(
                    dict.fromkeys(resolved.get(backend.key, [])))
        return [ServiceImport.planned(f"{name}-{namespace}-{imported}",
                                      [resolved_entry(e) for e in sorted(found, key=lambda e: e.key)], self._child)
                for (namespace, imported), found in reached.items()]

    def _target_group_plan(self, tg: TargetGroupSpec) -> TargetGroupPlan:
        s = self._args.spec.lattice
        assert s is not None
        service = self._args.manifests.service(tg.namespace, tg.service)
        assert service is not None  # checked by lattice_checks.check_cluster
        return TargetGroupPlan(spec=tg, cluster=self._args.spec.name, account_id=s.accountId, vpc_id=s.vpcId,
                               targets=s.targets,
                               target_port=target_port(s.targets.mode, service, tg.port, self._args.node_ports))

    def _arn(self, service: ServiceSpec, target: ForwardTarget) -> Any:
        """The ARN of a forward action's target group: one of this stack's, or the one an exporting stack
        published for this service."""
        if target.arn:
            return target.arn
        if target.local is not None:
            return self.target_groups[target.local].arn
        export = target.export
        assert export is not None
        if export.cluster == self._args.spec.name:
            return self.target_groups[ExportTargetGroupKey(export.key, service.name)].arn
        published = self._args.published.get(export.key)
        arn = published.target_group_for(service.name) if published else None
        if arn is None:
            raise pulumi.RunError(
                f"stack {export.cluster!r} has not published a target group of export {export.namespace}/"
                f"{export.name}:{export.port}/{export.route_type} for Lattice service {service.name!r} yet (it makes "
                f"one per service forwarding to it): {deploy_first(export.cluster)}")
        return arn

    def _route(self, name: str, service: ServiceSpec, auth: dict, network_ids: dict[str, Any]) -> Route:
        route = service.route
        forwards = [[WeightedTarget(target_group=self._arn(service, t), weight=t.weight) for t in rule.targets]
                    for rule in service.rules]
        route_name = f"{name}-{route.kind.lower()}-{route.metadata.namespace}-{route.metadata.name}"
        return ROUTE_COMPONENTS[route.kind].planned(route_name, RoutePlan(
            service=service, networks={g: network_ids[g] for g in service.networks}, forwards=forwards,
            auth_policy=auth.get((route.kind, route.metadata.name)), tags=self._tags,
            moved=Moved(self.urn_type, FormerWrapper("clusterfabric:lattice:Route", route_name, self))), self._child)

    def exports_output(self) -> pulumi.Output[list[dict[str, Any]]]:
        """The exported ports as the stack publishes them, each with its target groups (one per service that
        forwards to it): one Output over the exports' own (an Output per entry would cost an `Output.all` each)."""
        return pulumi.Output.all(*(export.target_groups for export in self.exports)).apply(
            lambda found: lattice_exports_entries([(tg.spec, entry["arn"])
                                                   for export, entries in zip(self.exports, found)
                                                   for tg, entry in zip(export.groups, entries)]))
