"""The VPC Lattice side of one cluster: networks it owns, VPC associations, exports, routes."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..model.fabric import ClusterSpec
from ..model.gateway import ROUTE_KINDS, ROUTE_TYPE, Gateway
from ..model.kubernetes import Service
from ..model.lattice import IAMAuthPolicy, ServiceExport, ServiceImport, TargetGroupPolicy, VpcAssociationPolicy
from ..model.lattice_checks import (BackendKey, LatticeExport, backend_namespace, gateway_listeners,
                                   route_service_name, split_weights)
from ..model.load import ClusterManifests
from ..moved import urn_type
from .network import ServiceNetwork, vpc_association
from .route import Route, RouteArgs, WeightedTarget
from .target_group import TargetGroup, TargetGroupArgs

def target_port(mode: str, service: Service, port: int, nodes: dict[tuple[str, str, int], int]) -> int:
    """What the target group sends to: the NodePort (instance), the pod port (ip), the Service port (alb)."""
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
    owned_networks: list[str]
    """Service networks this stack creates."""
    network_ids: dict[str, Any]
    """Service network id of every Gateway this cluster declares and does not own (from the owners' outputs)."""
    resolved: dict[BackendKey, list[LatticeExport]]
    """Each ServiceImport backend's matching exports (remote ones carry their target group ARN)."""
    node_ports: dict[tuple[str, str, int], int]


class LatticeCluster(pulumi.ComponentResource):
    """`clusterfabric:lattice:Cluster`."""

    exports: list[tuple[LatticeExport, TargetGroup]]
    networks: dict[str, ServiceNetwork]

    def __init__(self, name: str, args: LatticeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:lattice:Cluster", name, None, opts)
        self.urn_type = urn_type("clusterfabric:lattice:Cluster", opts.parent if opts else None)
        spec, m = args.spec, args.manifests
        s = spec.lattice
        assert s is not None
        self._args = args
        self.provider = aws.Provider(f"{name}-aws", region=s.region, allowed_account_ids=[s.accountId],
                                     opts=pulumi.ResourceOptions(parent=self))
        self._child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self._tags = {"application-networking.k8s.aws/ManagedBy": f"{s.accountId}/{spec.name}/{s.vpcId}"}
        self._policies = {(p.spec.targetRef.kind, p.spec.targetRef.namespace or p.metadata.namespace,
                           p.spec.targetRef.name): p for p in m.of_kind(TargetGroupPolicy)}
        self._target_groups: dict[tuple[str, str, int, str], TargetGroup] = {}

        auth = {(p.spec.targetRef.kind, p.spec.targetRef.name): p.spec.policy for p in m.of_kind(IAMAuthPolicy)}
        self.networks = {
            network: ServiceNetwork(f"{name}-{network}", network, auth.get(("Gateway", network)), self._tags,
                                    access_logs=s.accessLogs, opts=self._child)
            for network in args.owned_networks
        }
        network_ids = {**args.network_ids, **{n: sn.id for n, sn in self.networks.items()}}
        self._associate(name, m, network_ids)

        self.exports = []
        for export in m.of_kind(ServiceExport):
            service = m.service(export.metadata.namespace, export.service)
            for exported in export.exported_ports([p.port for p in service.spec.ports]):
                tg = self._target_group(name, service, exported.port, exported.routeType, "ServiceExport",
                                        export.metadata.name, export.user_tags,
                                        self._policies.get(("ServiceExport", export.metadata.namespace,
                                                            export.metadata.name)))
                info = LatticeExport(spec.name, s.vpcId, export.metadata.name, export.metadata.namespace,
                                     exported.port, exported.routeType)
                self.exports.append((info, tg))

        self.routes = []
        for route in (o for o in m.objects if isinstance(o, ROUTE_KINDS)):
            self.routes.append(self._route(name, route, auth, network_ids))
        self.register_outputs({"networks": sorted(self.networks), "exports": len(self.exports)})

    def _associate(self, name: str, m: ClusterManifests, network_ids: dict[str, Any]) -> None:
        policies = {p.spec.targetRef.name: p for p in m.of_kind(VpcAssociationPolicy)}
        s = self._args.spec.lattice
        for gateway in m.of_kind(Gateway):
            policy = policies.get(gateway.metadata.name)
            if policy and policy.spec.associateWithVpc is False:
                continue
            groups = (policy.spec.securityGroupIds if policy and policy.spec.securityGroupIds else s.securityGroupIds)
            vpc_association(f"{name}-{gateway.metadata.name}-vpc", network_ids[gateway.metadata.name], s.vpcId,
                           list(groups), self._tags, opts=self._child)

    def _target_group(self, name: str, service: Service, port: int, route_type: str, source_kind: str,
                      source_name: str, user_tags: dict[str, str], policy: TargetGroupPolicy | None) -> TargetGroup:
        s = self._args.spec.lattice
        policy = policy or self._policies.get(("Service", service.namespace, service.name))
        key = (service.namespace, service.name, port, route_type)
        if key not in self._target_groups:
            self._target_groups[key] = TargetGroup(
                f"{name}-{service.namespace}-{service.name}-{port}-{route_type.lower()}",
                TargetGroupArgs(cluster=self._args.spec.name, account_id=s.accountId, vpc_id=s.vpcId,
                                service=service.name, namespace=service.namespace, service_port=port,
                                port=target_port(s.targets.mode, service, port, self._args.node_ports),
                                route_type=route_type, targets=s.targets, policy=policy, source_kind=source_kind,
                                source_name=source_name, user_tags=user_tags),
                opts=self._child)
        return self._target_groups[key]

    def _route(self, name: str, route, auth: dict, network_ids: dict[str, Any]) -> Route:
        m = self._args.manifests
        imports = {(i.metadata.namespace, i.metadata.name): i for i in m.of_kind(ServiceImport)}
        gateways = {g.metadata.name: g for g in m.of_kind(Gateway)}
        route_type = ROUTE_TYPE[route.kind]
        local_exports = {(e.namespace, e.name, e.port, e.route_type): tg for e, tg in self.exports}
        forwards = []
        for r, rule in enumerate(route.spec.rules):
            per_backend: list[list[Any]] = []
            for b, backend in enumerate(rule.backendRefs):
                ns = backend_namespace(route, backend)
                if backend.kind == "Service":
                    service = m.service(ns, backend.name)
                    tg = self._target_group(name, service, backend.port, route_type, route.kind,
                                            route.metadata.name, {}, None)
                    per_backend.append([tg.arn])
                    continue
                imp: ServiceImport = imports[(ns, backend.name)]
                if imp.target_group_arn:
                    per_backend.append([imp.target_group_arn])
                    continue
                matches = self._args.resolved[(route.kind, route.metadata.namespace, route.metadata.name, r, b)]
                per_backend.append([
                    e.target_group_arn or local_exports[(e.namespace, e.name, e.port, e.route_type)].arn
                    for e in matches
                ])
            weights = split_weights([b.weight for b in rule.backendRefs], [len(t) for t in per_backend])
            forwards.append([WeightedTarget(target_group=arn, weight=w)
                             for arns, ws in zip(per_backend, weights) for arn, w in zip(arns, ws)])
        listeners = gateway_listeners(route, gateways)
        return Route(f"{name}-{route.kind.lower()}-{route.metadata.namespace}-{route.metadata.name}", RouteArgs(
            route=route, service_name=route_service_name(route), listeners=listeners,
            networks={g: network_ids[g] for g, _ in listeners}, forwards=forwards,
            auth_policy=auth.get((route.kind, route.metadata.name)), tags=self._tags,
        ), opts=self._child)

    def exports_output(self) -> pulumi.Output[list[dict[str, Any]]]:
        """The exports as the stack publishes them, each with its target group's ARN. One Output for the
        list: an Output in each entry would cost the SDK an `Output.all` per export to lift it."""
        entries = [{"name": e.name, "namespace": e.namespace, "port": e.port, "routeType": e.route_type,
                    "targetGroupName": tg.name} for e, tg in self.exports]
        return pulumi.Output.all(*(tg.arn for _, tg in self.exports)).apply(
            lambda arns: [{**entry, "targetGroupArn": arn} for entry, arn in zip(entries, arns)])
