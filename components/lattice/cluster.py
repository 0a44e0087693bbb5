"""The VPC Lattice side of one cluster, as the fabric decided it (components.model.lattice_fabric): the networks
it owns (shared through AWS RAM with the other accounts using them), the invitations it accepts for its account,
the VPC associations it owns, its exports' and routes' target groups, and a service per route it declares (its
own routes', and those of other accounts' routes whose target groups are here). Built from the public components
(ServiceNetwork, ServiceExport, HTTPRoute...), which a program may use alone."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..contract import deploy_first, hosted_entry, lattice_exports_entries, network_entry
from ..model import ClusterSpec
from ..model.kubernetes import Service
from ..model.lattice import IAMAuthPolicy
from ..model.lattice_imports import ExportKey, LatticeExport
from ..model.lattice_fabric import (ExportTargetGroupKey, ForwardTarget, LatticeFabric, ServiceSpec, TargetGroupKey,
                                    TargetGroupSpec)
from ..model.lattice_networks import NetworkSpec
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
    networks: dict[Any, dict[str, Any]]
    """(account and Region, name) -> {id, arn, share?} of every network this cluster joins and another stack
    creates (from the owners' outputs)."""
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
        moved = Moved(self.urn_type)  # release 0.2 declared everything directly under this component
        self.networks = {network.name: ServiceNetwork.planned(f"{name}-{network.name}", ServiceNetworkPlan({
            "name": network.name, "tags": self._tags,
            **({"auth_policy": auth[("Gateway", network.name)]} if ("Gateway", network.name) in auth else {}),
            **({"access_logs": s.accessLogs} if s.accessLogs else {}),
            **self._share(network)}, moved), self._child)
            for network in fabric.networks.created_by(spec.name)}
        self._identifiers = self._network_identifiers(name)
        for association in fabric.associations_of(spec.name):
            association_name = f"{name}-{association.network}-vpc"
            network = fabric.networks.of(association.scope, association.network)
            vpc_association(association_name, self._identifiers[network.key], association.vpc,
                            association.security_groups, self._tags, self._child,
                            FormerWrapper("clusterfabric:lattice:VpcAssociation", association_name, self))
        groups = fabric.target_groups_of(spec.name)
        self.exports = self._exports(name, [tg for tg in groups.values() if tg.source_kind == "ServiceExport"], moved)
        self.target_groups = {tg.spec.key: tg for export in self.exports for tg in export.groups}
        self.target_groups.update({key: TargetGroup(f"{name}-{tg.name}", self._target_group_plan(tg), self._child)
                                   for key, tg in groups.items() if tg.source_kind != "ServiceExport"})
        self.imports = self._imports(name)
        self.services = fabric.services_of(spec.name)
        self.routes = [self._route(name, service, auth) for service in self.services]
        self.register_outputs({"networks": sorted(self.networks), "targetGroups": len(self.target_groups)})

    def _share(self, network: NetworkSpec) -> dict[str, Any]:
        """The `share` argument of a network this stack creates, when the fabric shares it."""
        share = self._args.fabric.networks.shares.get(network.key)
        if share is None:
            return {}
        return {"share": {"principals": list(share.principals), "allow_external_principals": share.allow_external}}

    def _network_identifiers(self, name: str) -> dict[Any, Any]:
        """What names each network this stack joins: its id, or its ARN from another account (or when it exists
        already). Where this stack accepts the invitation to a network's share, what names it waits for the
        acceptance: nothing of its account may use the network before."""
        account = self._args.spec.lattice.accountId  # type: ignore[union-attr]
        networks = self._args.fabric.networks
        found: dict[Any, Any] = {}
        for network in networks.joined_by(self._args.spec.name) + networks.created_by(self._args.spec.name):
            if network.owner == self._args.spec.name:
                found[network.key] = self.networks[network.name].network_id
            elif network.arn is not None:
                found[network.key] = network.arn
            else:
                found[network.key] = self._args.networks[network.key]["arn" if network.by_arn(account) else "id"]
        for network in networks.accepted_by(self._args.spec.name):
            accepted = aws.ram.ResourceShareAccepter(f"{name}-{network.name}-share",
                                                     share_arn=self._args.networks[network.key]["share"],
                                                     opts=self._child)
            found[network.key] = pulumi.Output.all(found[network.key], accepted.id).apply(lambda both: both[0])
        return found

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

    def _route(self, name: str, service: ServiceSpec, auth: dict) -> Route:
        route = service.route
        forwards = [[WeightedTarget(target_group=self._arn(service, t), weight=t.weight) for t in rule.targets]
                    for rule in service.rules]
        # A route of another cluster: its name too, as this stack's own route of that kind and name may exist.
        of = "" if service.cluster == service.host else f"{service.cluster}-"
        route_name = f"{name}-{of}{route.kind.lower()}-{route.metadata.namespace}-{route.metadata.name}"
        networks = {g: self._identifiers[self._args.fabric.network_of(service, g).key] for g in service.networks}
        return ROUTE_COMPONENTS[route.kind].planned(route_name, RoutePlan(
            service=service, networks=networks, forwards=forwards,
            auth_policy=auth.get((route.kind, route.metadata.name)), tags=self._tags,
            moved=Moved(self.urn_type, FormerWrapper("clusterfabric:lattice:Route", route_name, self))), self._child)

    def networks_output(self) -> pulumi.Output[dict[str, Any]]:
        """The networks it creates as the stack publishes them: {id, arn, share (when shared)} by name."""
        return pulumi.Output.from_input({n: network_entry(sn.network_id, sn.arn, sn.share_arn)
                                         for n, sn in self.networks.items()})

    def hosted_output(self) -> pulumi.Output[list[dict[str, Any]]]:
        """The services it declares for other clusters' routes, as the stack publishes them."""
        return pulumi.Output.from_input([hosted_entry(service, route.service_arn, route.dns_name)
                                         for service, route in zip(self.services, self.routes)
                                         if service.cluster != service.host])

    def exports_output(self) -> pulumi.Output[list[dict[str, Any]]]:
        """The exported ports as the stack publishes them, each with its target groups (one per service that
        forwards to it): one Output over the exports' own (an Output per entry would cost an `Output.all` each)."""
        return pulumi.Output.all(*(export.target_groups for export in self.exports)).apply(
            lambda found: lattice_exports_entries([(tg.spec, entry["arn"])
                                                   for export, entries in zip(self.exports, found)
                                                   for tg, entry in zip(export.groups, entries)]))
