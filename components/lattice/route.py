"""A route (HTTPRoute, GRPCRoute, TLSRoute) as a Lattice service with listeners and rules."""

from typing import Any, Optional, Sequence

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..component import Component
from ..model import gateway
from ..model.gateway import ROUTE_TYPE
from ..model.lattice_fabric import ListenerSpec, ServiceSpec
from ..model.lattice_names import rule_name
from ..model.limits import (FORWARD_TARGET_GROUPS, HEADER_MATCHES, MATCH_VALUE_LENGTH, PORT, PROTOCOLS,
                            WEIGHT, check, count_problem, in_range, name_problem)
from ..model.validation import whole_numbers
from ..moved import Moved, moved_options
from .network import AUTH_POLICY_TYPE, checked_auth_policy
from .route_args import RouteArgs, planned_service
from .target_group import TAG_PREFIX

# Type tokens of what a route declares (its aliases from release 0.1 name them: components/moved.py).
SERVICE_TYPE = "aws:vpclattice/service:Service"
SERVICE_ASSOCIATION_TYPE = "aws:vpclattice/serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation"
LISTENER_TYPE = "aws:vpclattice/listener:Listener"
RULE_TYPE = "aws:vpclattice/listenerRule:ListenerRule"


class WeightedTarget(BaseModel):
    """One entry of a forward action."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target_group: pulumi.Output[str] | str
    """The target group's ARN (or id): one this stack declares, or one another stack published."""
    weight: int
    """Its share of the rule's traffic, 0-999 (limits.WEIGHT)."""


class RoutePlan(BaseModel):
    """What a route component declares: its Lattice service as planned, and where its rules forward."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    service: ServiceSpec
    """The route's Lattice service as the fabric decided it (components.model.lattice_fabric)."""
    networks: dict[str, pulumi.Output[str] | str]
    """Gateway name -> id of the service network the Lattice service joins: one of every Gateway it attaches to."""
    forwards: list[list[WeightedTarget]]
    """Per route rule, the weighted target groups of its forward action (1-10, limits.FORWARD_TARGET_GROUPS)."""
    auth_policy: str | None = None
    """The IAMAuthPolicy's policy document (JSON, 2-10000 characters); None: auth type NONE."""
    tags: dict[str, str] = {}
    """The tags of everything it declares (the controller's ManagedBy)."""
    moved: Moved | None = None
    """Where releases 0.1 and 0.2 declared what the route holds (the fabric's routes), for their aliases."""


def alone(token: str, name: str, kind: str, args: RouteArgs) -> RoutePlan:
    """The RoutePlan of a route used alone."""
    args = whole_numbers(args)  # numbers come from other languages as floats (80.0)
    service, target_groups = planned_service(token, name, kind, args)
    if "auth_policy" in args:
        checked_auth_policy(token, name, kind, args["name"], args["namespace"], args["auth_policy"])
    return RoutePlan(service=service, networks={args["gateway"]["name"]: args["gateway"]["network_id"]},
                     forwards=[[WeightedTarget(target_group=arn, weight=t.weight) for arn, t in zip(arns, rule.targets)]
                               for arns, rule in zip(target_groups, service.rules)],
                     auth_policy=args.get("auth_policy"), tags=args.get("tags", {}))


def _target_groups(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    check(count_problem("forward action target groups", targets, FORWARD_TARGET_GROUPS),
          *(in_range("weight", t.weight, WEIGHT) for t in targets))
    return {"target_groups": [{"target_group_identifier": t.target_group, "weight": t.weight} for t in targets]}


def rule_action(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    """A forward to the rule's targets; without any, a fixed 500 (the Gateway API's rule for a rule without
    backends, which the controller builds so)."""
    return {"forward": _target_groups(targets)} if targets else {"fixed_response": {"status_code": 500}}


def default_forward(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    # A listener's default action names its forward block `forwards` (a list of one).
    return {"forwards": [_target_groups(targets)]}


def _header_matches(headers) -> list[dict[str, Any]]:
    check(count_problem("header matches", headers, HEADER_MATCHES),
          *(in_range("header match value length", len(h.value), MATCH_VALUE_LENGTH) for h in headers))
    # Case-insensitive, as the controller sends them: HTTP header names are (Gateway API's HTTPHeaderName).
    return [{"name": h.name, "case_sensitive": False, "match": {"exact": h.value}} for h in headers]


def http_match(route, rule) -> dict[str, Any]:
    """The Lattice match of one rule: path (exact/prefix), method, headers; GRPC method as its path."""
    match = rule.matches[0] if rule.matches else None
    result: dict[str, Any] = {}
    if isinstance(route, gateway.GRPCRoute):
        result["method"] = "POST"
        if match and match.method:
            m = match.method
            path = f"/{m.service}/{m.method}" if m.method else f"/{m.service}/"
            result["path_match"] = {"case_sensitive": True, "match": {"exact" if m.method else "prefix": path}}
        else:
            result["path_match"] = {"case_sensitive": True, "match": {"prefix": "/"}}
    else:
        path = match.path if match and match.path else None
        kind, value = ("exact", path.value) if path and path.type == "Exact" else ("prefix", path.value if path else "/")
        check(in_range("path match length", len(value), MATCH_VALUE_LENGTH),
              None if value.startswith("/") else f"path {value!r} must start with '/'")
        result["path_match"] = {"case_sensitive": True, "match": {kind: value}}
        if match and match.method:
            result["method"] = match.method
    if match and match.headers:
        result["header_matches"] = _header_matches(match.headers)
    return result


def service_tags(route: Any) -> dict[str, str]:
    """The tags the controller writes on a route's service and reads back when it adopts one."""
    return {f"{TAG_PREFIX}RouteName": route.metadata.name, f"{TAG_PREFIX}RouteNamespace": route.metadata.namespace,
            f"{TAG_PREFIX}RouteType": ROUTE_TYPE[route.kind].lower()}


class Route(Component[RoutePlan]):
    """One Lattice service for a route, its network associations, listeners and rules parented to it (the
    subclasses give the token of each route kind). `args`: in the Gateway API's words (a program of its own,
    route_args.py); `planned`: the service as the fabric planned it. No `from __future__ import annotations` in
    this module: the component provider host reads `__init__`'s annotations as types to infer the package's
    schema."""

    MODULE = "lattice"
    KIND = "Route"
    service_arn: pulumi.Output[str]
    """The Lattice service's ARN (what an auth policy or a consumer's IAM policy names)."""
    service_id: pulumi.Output[str]
    """The Lattice service's id."""

    def __init__(self, name: str, args: RouteArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        self._make(name, alone(self.TOKEN, name, self.KIND, args), opts)  # refused before anything is registered

    def _declare(self, name: str, plan: RoutePlan) -> None:
        spec = plan.service
        check(name_problem("service", spec.name))
        self._moved = plan.moved
        service_args: dict[str, Any] = {"name": spec.name, "auth_type": "AWS_IAM" if plan.auth_policy else "NONE",
                                        "tags": {**plan.tags, **service_tags(spec.route)}}
        if spec.domain:
            service_args["custom_domain_name"] = spec.domain
        if spec.certificate_arn:
            service_args["certificate_arn"] = spec.certificate_arn
        self.service = aws.vpclattice.Service(
            name, **service_args,
            opts=moved_options(plan.moved, pulumi.ResourceOptions(parent=self), (SERVICE_TYPE,), name))
        self._child = pulumi.ResourceOptions(parent=self.service)
        if plan.auth_policy:
            aws.vpclattice.AuthPolicy(f"{name}-auth", resource_identifier=self.service.arn, policy=plan.auth_policy,
                                      opts=self._options(AUTH_POLICY_TYPE, f"{name}-auth"))
        for gateway in spec.networks:
            aws.vpclattice.ServiceNetworkServiceAssociation(
                f"{name}-{gateway}", service_identifier=self.service.id,
                service_network_identifier=plan.networks[gateway], tags=plan.tags,
                opts=self._options(SERVICE_ASSOCIATION_TYPE, f"{name}-{gateway}", in_place=True))
        for listener in spec.listeners:
            self._listener(f"{name}-{listener.gateway}-{listener.listener.name}", plan, listener)
        self.service_arn, self.service_id = self.service.arn, self.service.id
        self.register_outputs({"service_arn": self.service_arn, "service_id": self.service_id})

    def _options(self, resource_type: str, name: str, in_place: bool = False) -> pulumi.ResourceOptions:
        """A child of the service, with its former URNs. `in_place`: what holds a place only one can hold (a
        listener its port, a rule its priority, an association its pair) is deleted before its replacement is
        created: Lattice refuses the replacement while the old one holds the place."""
        opts = moved_options(self._moved, self._child, (SERVICE_TYPE, resource_type), name)
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)) if in_place \
            else opts

    def _listener(self, name: str, plan: RoutePlan, listener: ListenerSpec) -> None:
        route = plan.service.route
        check(in_range("listener port", listener.port, PORT),
              None if listener.protocol in PROTOCOLS["listener"] else f"listener protocol {listener.protocol}")
        passthrough = listener.protocol == "TLS_PASSTHROUGH"
        # A passthrough listener takes no rules: the route's one rule is its default action.
        default = default_forward(plan.forwards[0]) if passthrough else {"fixed_response": {"status_code": 404}}
        lattice_listener = aws.vpclattice.Listener(
            name, name=listener.name, protocol=listener.protocol, port=listener.port,
            service_identifier=self.service.id, default_action=default, tags=plan.tags,
            opts=self._options(LISTENER_TYPE, name, in_place=True))
        if passthrough:
            return
        for rule in plan.service.rules:
            i = rule.index
            aws.vpclattice.ListenerRule(
                f"{name}-{i + 1}", name=rule_name(route.metadata.name, i),
                listener_identifier=lattice_listener.listener_id, service_identifier=self.service.id,
                priority=rule.priority, match={"http_match": http_match(route, route.spec.rules[i])},
                action=rule_action(plan.forwards[i]), tags=plan.tags,
                opts=self._options(RULE_TYPE, f"{name}-{i + 1}", in_place=True))


class HTTPRoute(Route):
    """`clusterfabric:lattice:HTTPRoute`: an HTTPRoute's Lattice service."""

    KIND = "HTTPRoute"


class GRPCRoute(Route):
    """`clusterfabric:lattice:GRPCRoute`: a GRPCRoute's Lattice service (HTTPS or HTTP listeners, gRPC methods
    matched as paths)."""

    KIND = "GRPCRoute"


class TLSRoute(Route):
    """`clusterfabric:lattice:TLSRoute`: a TLSRoute's Lattice service (a TLS passthrough listener)."""

    KIND = "TLSRoute"


ROUTE_COMPONENTS: dict[str, type[Route]] = {"HTTPRoute": HTTPRoute, "GRPCRoute": GRPCRoute, "TLSRoute": TLSRoute}
