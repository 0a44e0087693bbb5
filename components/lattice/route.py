"""A route (HTTPRoute, GRPCRoute, TLSRoute) as a Lattice service with listeners and rules."""

from __future__ import annotations

from typing import Any, Sequence

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict

from ..model.gateway import GRPCRoute, HTTPRoute, Listener, TLSRoute
from ..model.lattice_checks import rule_priorities
from ..model.limits import (FORWARD_TARGET_GROUPS, HEADER_MATCHES, MATCH_VALUE_LENGTH, PORT, PROTOCOLS, RULE_PRIORITY,
                            WEIGHT, check, count_problem, in_range, name_problem)
from ..moved import FormerWrapper
from .names import listener_name, rule_name
from .network import AUTH_POLICY_TYPE

# Type tokens of what a route declares (its aliases from release 0.1 name them: components/moved.py).
SERVICE_TYPE = "aws:vpclattice/service:Service"
SERVICE_ASSOCIATION_TYPE = "aws:vpclattice/serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation"
LISTENER_TYPE = "aws:vpclattice/listener:Listener"
RULE_TYPE = "aws:vpclattice/listenerRule:ListenerRule"


class WeightedTarget(BaseModel):
    """One entry of a forward action."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    target_group: Any  # pulumi.Output[str] (ARN) or str
    weight: int


class RouteArgs(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    route: HTTPRoute | GRPCRoute | TLSRoute
    service_name: str
    listeners: list[tuple[str, Listener]]
    """(gateway, listener) pairs the route attaches to."""
    networks: dict[str, Any]
    """Gateway name -> service network id (Output)."""
    forwards: list[list[WeightedTarget]]
    """Per route rule, the weighted target groups."""
    auth_policy: str | None = None
    tags: dict[str, str] = {}


def _target_groups(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    check(count_problem("forward action target groups", targets, FORWARD_TARGET_GROUPS),
          *(in_range("weight", t.weight, WEIGHT) for t in targets),
          None if sum(t.weight for t in targets) > 0 else "a forward action needs a positive total weight")
    return {"target_groups": [{"target_group_identifier": t.target_group, "weight": t.weight} for t in targets]}


def rule_action(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    return {"forward": _target_groups(targets)}


def default_forward(targets: Sequence[WeightedTarget]) -> dict[str, Any]:
    # A listener's default action names its forward block `forwards` (a list of one).
    return {"forwards": [_target_groups(targets)]}


def _header_matches(headers) -> list[dict[str, Any]]:
    check(count_problem("header matches", headers, HEADER_MATCHES),
          *(in_range("header match value length", len(h.value), MATCH_VALUE_LENGTH) for h in headers))
    return [{"name": h.name, "case_sensitive": True, "match": {"exact": h.value}} for h in headers]


def http_match(route, rule) -> dict[str, Any]:
    """The Lattice match of one rule: path (exact/prefix), method, headers; GRPC method as its path."""
    match = rule.matches[0] if rule.matches else None
    result: dict[str, Any] = {}
    if isinstance(route, GRPCRoute):
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


class Route:
    """One Lattice service for a route, its network associations, listeners and rules parented to it.

    Declared directly, not as a component (components/moved.py): `opts` places the service (parent,
    provider); release 0.1's `clusterfabric:lattice:Route` wrapper is its alias."""

    service: aws.vpclattice.Service

    def __init__(self, name: str, args: RouteArgs, opts: pulumi.ResourceOptions | None = None):
        route = args.route
        check(name_problem("service", args.service_name))
        opts = opts or pulumi.ResourceOptions()
        self._former = FormerWrapper("clusterfabric:lattice:Route", name, opts.parent)
        service_args: dict[str, Any] = {"name": args.service_name, "auth_type": "AWS_IAM" if args.auth_policy else "NONE",
                                        "tags": args.tags}
        if route.spec.hostnames:
            service_args["custom_domain_name"] = route.spec.hostnames[0]
        self.service = aws.vpclattice.Service(name, **service_args,
                                              opts=self._former.options(opts, SERVICE_TYPE, name))
        self._child = pulumi.ResourceOptions(parent=self.service, provider=opts.provider)
        if args.auth_policy:
            aws.vpclattice.AuthPolicy(f"{name}-auth", resource_identifier=self.service.arn, policy=args.auth_policy,
                                      opts=self._options(AUTH_POLICY_TYPE, f"{name}-auth"))
        for gateway in sorted({g for g, _ in args.listeners}):
            aws.vpclattice.ServiceNetworkServiceAssociation(
                f"{name}-{gateway}", service_identifier=self.service.id,
                service_network_identifier=args.networks[gateway], tags=args.tags,
                opts=self._options(SERVICE_ASSOCIATION_TYPE, f"{name}-{gateway}"))
        for gateway, listener in args.listeners:
            self._listener(f"{name}-{gateway}-{listener.name}", args, listener)

    def _options(self, resource_type: str, name: str) -> pulumi.ResourceOptions:
        """A child of the service: parented to it, with its alias from release 0.1."""
        return self._former.options(self._child, resource_type, name)

    def _listener(self, name: str, args: RouteArgs, listener: Listener) -> None:
        route = args.route
        protocol = "TLS_PASSTHROUGH" if listener.protocol == "TLS" else listener.protocol
        check(in_range("listener port", listener.port, PORT),
              None if protocol in PROTOCOLS["listener"] else f"listener protocol {protocol}")
        if isinstance(route, TLSRoute):
            # Passthrough listeners take no rules: the one rule is the default action.
            default = default_forward(args.forwards[0])
        else:
            default = {"fixed_response": {"status_code": 404}}
        lattice_listener = aws.vpclattice.Listener(
            name, name=listener_name(listener.name, listener.port), protocol=protocol, port=listener.port,
            service_identifier=self.service.id, default_action=default, tags=args.tags,
            opts=self._options(LISTENER_TYPE, name))
        if isinstance(route, TLSRoute):
            return
        priorities, problems = rule_priorities(route)
        check(*(message for _, message in problems))
        for i, rule in enumerate(route.spec.rules):
            aws.vpclattice.ListenerRule(
                f"{name}-{i + 1}", name=rule_name(route.metadata.name, i), listener_identifier=lattice_listener.listener_id,
                service_identifier=self.service.id, priority=priorities[i],
                match={"http_match": http_match(route, rule)}, action=rule_action(args.forwards[i]),
                tags=args.tags, opts=self._options(RULE_TYPE, f"{name}-{i + 1}"))
