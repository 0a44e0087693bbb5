"""The AWS rules across the stacks of the fabric's Lattice clusters, checked on its desired state.

Each stack sees only itself at `pulumi up`, so a name taken twice in an account and Region, a VPC associated
twice, or a quota passed would fail half-way there: `validate` reports every violation, and each stack's program
those that concern it, before it declares anything (components/stack.py). What AWS and the controller accept but
does not do what the manifests seem to ask is a warning (`warnings`), never a refusal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from .errors import Problem
from .lattice_fabric import (AssociationSpec, ExportTargetGroupKey, ForwardTarget, LatticeFabric,
                             RouteTargetGroupKey, ServiceSpec, TargetGroupKey, Where)
from .lattice_imports import Scope, scope_of
from .limits import FORWARD_TARGET_GROUPS

DEFAULT_QUOTAS = {"listenersPerService": 2, "rulesPerListener": 10}  # the quotas page (older copies said 5 rules)
SECURITY_GROUPS_PER_ASSOCIATION = 5  # a Lattice quota that cannot be raised


@dataclass(frozen=True)
class Violation:
    """A problem of the fabric as a whole, and the clusters whose stacks it concerns."""

    problem: Problem
    clusters: frozenset[str]


def violations(fabric: LatticeFabric) -> list[Violation]:
    return [*_unique_names(fabric), *_network_claims(fabric), *_one_service_per_target_group(fabric),
            *_target_groups_in_region(fabric), *_vpc_associations(fabric), *_quotas(fabric), *_listener_ports(fabric)]


def warnings(fabric: LatticeFabric) -> list[Problem]:
    """What the fabric will build as written, though it does not do what the manifests seem to ask."""
    return [problem for _, problem in _warned(fabric)]


def warnings_of(fabric: LatticeFabric, cluster: str) -> list[Problem]:
    """The `warnings` about `cluster`'s stack."""
    return [problem for concerned, problem in _warned(fabric) if concerned == cluster]


def _warned(fabric: LatticeFabric) -> Iterable[tuple[str, Problem]]:
    """(cluster, warning) of each warning."""
    yield from _unserved_certificates(fabric)
    yield from _reshaped_weights(fabric)
    yield from _shared_opt_outs(fabric)


def problems(fabric: LatticeFabric) -> list[Problem]:
    """Every problem across the fabric's Lattice clusters: backends matching no export, and the rules."""
    return [p for found in fabric.resolution.values() for p in found] + [v.problem for v in violations(fabric)]


def problems_of(fabric: LatticeFabric, cluster: str) -> list[Problem]:
    """What stops `cluster`'s stack: its backends matching nothing, and the fabric's rules that concern it."""
    return fabric.resolution.get(cluster, []) + [v.problem for v in violations(fabric) if cluster in v.clusters]


def _quota(fabric: LatticeFabric, scope: Scope, name: str) -> int:
    """A quota of `scope`: raised in fabric.yaml, else Lattice's default."""
    raised = next((q for q in fabric.spec.lattice.quotas if (q.accountId, q.region) == scope), None)
    return getattr(raised, name) if raised else DEFAULT_QUOTAS[name]


def _region(scope: Scope) -> str:
    return f"{scope[0]}/{scope[1]}"


def _duplicates(items: Iterable[Any], key) -> Iterable[tuple[Any, Any]]:
    """(first, later) for each item whose key an earlier item has."""
    first: dict[Any, Any] = {}
    for item in items:
        k = key(item)
        if k in first:
            yield first[k], item
        else:
            first[k] = item


def _unique_names(fabric: LatticeFabric) -> Iterable[Violation]:
    """A target group's and a service's name is unique in its account and Region (CreateTargetGroup and
    CreateService answer ConflictException)."""
    for first, later in _duplicates(fabric.target_groups, lambda tg: (tg.scope, tg.name)):
        yield Violation(later.where.problem(
            f"its target group {later.name!r} has the name of a target group of {first.where} in cluster "
            f"{first.cluster!r}: target group names are unique in {_region(later.scope)}"),
            frozenset({first.cluster, later.cluster}))
    for first, later in _duplicates(fabric.services, lambda s: (s.scope, s.name)):
        yield Violation(later.where.problem(
            f"its Lattice service {later.name!r} has the name of the service of {first.where} in cluster "
            f"{first.cluster!r}: service names are unique in {_region(later.scope)}; set the annotation "
            "application-networking.k8s.aws/service-name-override on one of them"),
            frozenset({first.cluster, later.cluster}))


def _network_claims(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service network's name is unique in its account and Region: one stack creates it."""
    claims = [(cluster, scope_of(cluster), network) for cluster in fabric.spec.clusters if cluster.lattice
              for network in cluster.lattice.serviceNetworks]
    for (first, _, _), (later, scope, network) in _duplicates(claims, lambda c: (c[1], c[2])):
        yield Violation(Problem(fabric.fabric_file, f"Cluster/-/{later.name}", "lattice.serviceNetworks",
                                f"service network {network!r} is already created by {first.name!r} in "
                                f"{_region(scope)}; one stack creates it"), frozenset({first.name, later.name}))


def _one_service_per_target_group(fabric: LatticeFabric) -> Iterable[Violation]:
    """A target group serves the listeners of one service only ("these listeners must belong to the same
    service"). The fabric gives each consuming service its own; what the manifests name by ARN is checked."""
    users: dict[TargetGroupKey | str, ServiceSpec] = {}
    for service in fabric.services:
        for rule in service.rules:
            for target in rule.targets:
                identity = target.identity(service.name)
                first = users.setdefault(identity, service)
                if first.name != service.name or first.scope != service.scope:
                    yield Violation(service.where.problem(
                        f"its Lattice service {service.name!r} forwards to target group {_described(identity)}, "
                        "which the "
                        f"service {first.name!r} of {first.where} in cluster {first.cluster!r} forwards to already: "
                        "a target group serves the listeners of one service only"),
                        frozenset({first.cluster, service.cluster}))
                    users[identity] = service  # one line per pair


def _target_groups_in_region(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service forwards only to target groups of its own Region (and account, unless shared through AWS RAM)."""
    for service in fabric.services:
        for rule in service.rules:
            for target in rule.targets:
                region = target.arn.split(":")[3] if target.arn else service.scope[1]
                if region != service.scope[1]:
                    yield Violation(Where(service.where.file, service.where.object,
                                          f"spec.rules[{rule.index}].backendRefs").problem(
                        f"it forwards to target group {target.arn} of Region {region}, but its Lattice service is "
                        f"in {_region(service.scope)}: a service forwards only to target groups of its Region"),
                        frozenset({service.cluster}))


def _described(identity: TargetGroupKey | str) -> str:
    """A target group as the rules name it: by what it serves, or by its ARN."""
    if isinstance(identity, ExportTargetGroupKey):
        export = identity.export
        return f"of export {export.namespace}/{export.name}:{export.port} of cluster {export.cluster}"
    if isinstance(identity, RouteTargetGroupKey):
        return f"of Service {identity.namespace}/{identity.service}:{identity.port} of cluster {identity.cluster}"
    return identity


def _vpc_associations(fabric: LatticeFabric) -> Iterable[Violation]:
    """A VPC is associated with one service network (CreateServiceNetworkVpcAssociation answers ConflictException),
    each association exists once, and it has at most 5 security groups (a quota that cannot be raised)."""
    by_vpc: dict[tuple, list[AssociationSpec]] = defaultdict(list)
    for association in fabric.associations:
        by_vpc[(association.scope, association.vpc)].append(association)
        groups = association.security_groups
        if len(groups) > SECURITY_GROUPS_PER_ASSOCIATION:
            last = association.claims[-1]
            yield Violation(last.where.problem(
                f"the association of {association.vpc} with service network {association.network!r} would have "
                f"{len(groups)} security groups ({', '.join(groups)}: every cluster of that VPC's) and VPC Lattice "
                f"takes {SECURITY_GROUPS_PER_ASSOCIATION}"), frozenset(c.cluster for c in association.claims))
    for associations in by_vpc.values():
        for first, later in zip(associations, associations[1:]):
            claim, other = later.claims[0], first.claims[0]
            yield Violation(claim.where.problem(
                f"{later.vpc} would join service network {later.network!r}, but {other.where} in cluster "
                f"{other.cluster!r} joins it to {first.network!r}: a VPC is associated with one service network "
                "only"), frozenset({claim.cluster, other.cluster}))


def _quotas(fabric: LatticeFabric) -> Iterable[Violation]:
    """Lattice's quotas: listeners per service and rules per listener (raised ones declared in fabric.yaml), and
    1-10 target groups per forward action."""
    for service in fabric.services:
        listeners = _quota(fabric, service.scope, "listenersPerService")
        at = Where(service.where.file, service.where.object, "spec.parentRefs")
        if len(service.listeners) > listeners:
            names = ", ".join(f"{spec.listener.name} ({spec.port})" for spec in service.listeners)
            yield Violation(at.problem(
                f"its Lattice service {service.name!r} would have {len(service.listeners)} listeners (Gateway "
                f"{service.listeners[0].gateway!r}: {names}); the quota in {_region(service.scope)} is {listeners} "
                "per service: attach it to fewer with sectionName, or declare a raised quota under lattice.quotas "
                "in fabric.yaml"), frozenset({service.cluster}))
        rules = _quota(fabric, service.scope, "rulesPerListener")
        if any(spec.protocol != "TLS_PASSTHROUGH" for spec in service.listeners) and len(service.rules) > rules:
            yield Violation(Where(service.where.file, service.where.object, "spec.rules").problem(
                f"{len(service.rules)} rules on each listener of its Lattice service {service.name!r}; the quota in "
                f"{_region(service.scope)} is {rules} per listener: split the route, or declare a raised quota under "
                "lattice.quotas in fabric.yaml"), frozenset({service.cluster}))
        low, high = FORWARD_TARGET_GROUPS
        for rule in service.rules:
            if len(rule.targets) > high:
                yield Violation(Where(service.where.file, service.where.object,
                                      f"spec.rules[{rule.index}].backendRefs").problem(
                    f"its forward action would have {len(rule.targets)} target groups (a ServiceImport matching "
                    f"several clusters counts each); VPC Lattice takes {low}-{high} per action"),
                    frozenset({service.cluster}))


def _listener_ports(fabric: LatticeFabric) -> Iterable[Violation]:
    """A service's listeners have distinct ports (CreateListener answers ConflictException)."""
    for service in fabric.services:
        for first, later in _duplicates(service.listeners, lambda spec: spec.port):
            yield Violation(Where(service.where.file, service.where.object, "spec.parentRefs").problem(
                f"Gateway {later.gateway!r} listeners {first.listener.name!r} and {later.listener.name!r} both use "
                f"port {later.port}, and a Lattice service has one listener per port: attach the route to one of "
                "them with sectionName"), frozenset({service.cluster}))


def _unserved_certificates(fabric: LatticeFabric) -> Iterable[tuple[str, Problem]]:
    """A custom certificate on a service without a custom domain name: CreateService takes the two independently
    (the controller sends them so), but VPC Lattice serves a custom certificate only by SNI for the custom domain."""
    for service in fabric.services:
        if service.certificate_arn and not service.domain:
            yield service.cluster, Where(service.where.file, service.where.object, "spec.hostnames").problem(
                f"its Gateway listener gives the certificate {service.certificate_arn} (certificate-arn), which VPC "
                "Lattice serves only for a custom domain name, and the route has no hostname: its Lattice service "
                "gets the certificate, as with the controller, but clients get the one of its generated domain; add "
                "the hostname the certificate is for")


def _shared_opt_outs(fabric: LatticeFabric) -> Iterable[tuple[str, Problem]]:
    """associateWithVpc: false in a cluster whose VPC another cluster associates with that network: the one
    association of the VPC stays (AWS refuses neither; two controllers would delete and recreate it in turn)."""
    for opt_out in fabric.opt_outs:
        for association in fabric.associations:
            if (association.scope, association.vpc, association.network) == (opt_out.scope, opt_out.vpc,
                                                                            opt_out.network):
                owner = association.claims[0]
                yield opt_out.cluster, opt_out.where.problem(
                    f"associateWithVpc is false, but {owner.where} in cluster {owner.cluster!r} associates the same "
                    f"VPC {association.vpc} with {association.network!r}, and clusters sharing a VPC share its "
                    "association: it stays")


def _reshaped_weights(fabric: LatticeFabric) -> Iterable[tuple[str, Problem]]:
    """A rule whose backends get other shares than their weights say: a ServiceImport's weight shared among the
    clusters it matches, in whole weights up to 999, none at 0, can only approximate them (split_weights)."""
    for service in fabric.services:
        for rule in service.rules:
            declared = [ref.weight for ref in service.route.spec.rules[rule.index].backendRefs]
            sent = [sum(t.weight for t in rule.targets if t.backend == b) for b in range(len(declared))]
            if any(d * sum(sent) != s * sum(declared) for d, s in zip(declared, sent)):
                split = ", ".join(f"backendRefs[{t.backend}] {_target(t)} {t.weight}" for t in rule.targets)
                yield service.cluster, Where(service.where.file, service.where.object,
                                             f"spec.rules[{rule.index}].backendRefs").problem(
                    f"weights {':'.join(map(str, declared))} are sent as {split}: VPC Lattice takes whole weights up "
                    "to 999, a ServiceImport's weight is shared among the clusters it matches, and none gets 0 (it "
                    f"would get no traffic); the backends get {':'.join(map(str, sent))} of the traffic")


def _target(target: ForwardTarget) -> str:
    """A forward target as a warning names it: the exporting cluster, the Service, or the target group's ARN."""
    if target.export is not None:
        return target.export.cluster
    if target.local is not None:
        return f"Service {target.local.namespace}/{target.local.service}"
    return str(target.arn)
