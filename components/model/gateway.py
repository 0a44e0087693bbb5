"""Gateway API kinds as the AWS Gateway API Controller reads them: Gateway, HTTPRoute, GRPCRoute, TLSRoute.

Fields mirror `gateway.networking.k8s.io` (clusterfabric/crds/gateway-api) with the
limits of its CRDs. What the controller refuses is refused here with the reason
(model_build_rule.go, route_controller.go): regular-expression paths, several
matches in one rule, query-parameter matches, header matches other than Exact,
more than five header matches, backend kinds other than Service and
ServiceImport, a TLSRoute without a hostname or with several rules; and so are
values outside the Lattice API's limits (botocore's model): weights above 999,
header names over 100 characters, path characters it does not take, a Gateway
name that is no service network name. What the controller ignores (filters,
session persistence, retries) is accepted, and validate warns
(components.model.lattice_checks); docs/lattice.md lists each refusal's source.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from .kubernetes import DNSLabel, DNSSubdomain, ObjectMeta, Port, Strict
from .lattice import CERTIFICATE_ARN, CERTIFICATE_ARN_PATTERN
from .limits import (FORWARD_TARGET_GROUPS, HEADER_MATCHES, HEADER_NAME_LENGTH, MATCH_VALUE_LENGTH, WEIGHT,
                     name_problem)

GROUP = "gateway.networking.k8s.io"
# The characters the Lattice API takes in a path match (botocore's PathMatchExact/PathMatchPrefix pattern).
LATTICE_PATH = r"^/[a-zA-Z0-9@:%_+.~#?&/=-]*$"

SectionName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
Hostname = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
MatchValue = Annotated[str, Field(min_length=MATCH_VALUE_LENGTH[0], max_length=MATCH_VALUE_LENGTH[1])]


def unsupported(reason: str) -> Any:
    """A Gateway API field VPC Lattice has no counterpart for: refused with `reason`, not pydantic's "Input should
    be None" nor "unknown field (check its spelling)"."""

    def refuse(value: Any) -> None:
        if value is not None:
            raise ValueError(reason)
        return None

    return Annotated[None, BeforeValidator(refuse)]




class GatewayTLS(Strict):
    mode: Literal["Terminate", "Passthrough"] = "Terminate"
    certificateRefs: list[dict] = Field(default_factory=list)
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _certificate(cls, options: dict[str, str]) -> dict[str, str]:
        arn = options.get(CERTIFICATE_ARN)
        if arn is not None and not CERTIFICATE_ARN_PATTERN.fullmatch(arn):
            raise ValueError(f"{CERTIFICATE_ARN}: {arn!r} is not an ACM certificate ARN "
                             "(arn:aws:acm:REGION:ACCOUNT:certificate/ID)")
        return options

    @property
    def certificate_arn(self) -> str | None:
        """The custom certificate the controller gives the Lattice services of routes attached here."""
        return self.options.get(CERTIFICATE_ARN) if self.mode == "Terminate" else None


class Listener(Strict):
    name: SectionName
    hostname: Hostname | None = None
    port: Port
    protocol: Annotated[str, Field(min_length=1, max_length=255)]
    """HTTP, HTTPS and TLS are what routes attach to (LISTENER_PROTOCOLS); the controller leaves others unused."""
    tls: GatewayTLS | None = None
    allowedRoutes: dict | None = None

    @property
    def passthrough(self) -> bool:
        return self.protocol == "TLS" and (self.tls is None or self.tls.mode == "Passthrough")

    @property
    def certificate_arn(self) -> str | None:
        return self.tls.certificate_arn if self.tls else None


class GatewaySpec(Strict):
    gatewayClassName: DNSSubdomain
    listeners: list[Listener] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _unique_listener_names(self) -> "GatewaySpec":
        names = [listener.name for listener in self.listeners]
        if len(set(names)) != len(names):
            raise ValueError("listener names must be unique within a Gateway")
        return self


class Gateway(Strict):
    """A Gateway: in VPC Lattice, the service network of the same name."""

    apiVersion: Literal["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]
    kind: Literal["Gateway"]
    metadata: ObjectMeta
    spec: GatewaySpec

    @model_validator(mode="after")
    def _network_name(self) -> "Gateway":
        problem = name_problem("service network", self.metadata.name)
        if problem:
            raise ValueError(f"metadata.name: {problem}: a Gateway is the VPC Lattice service network of its name")
        return self


class ParentRef(Strict):
    group: str | None = None
    kind: Literal["Gateway"] = "Gateway"
    name: DNSSubdomain
    namespace: DNSLabel | None = None
    sectionName: SectionName | None = None
    port: Port | None = None


def _lattice_weight(weight: int) -> int:
    low, high = WEIGHT
    if weight > high:
        raise ValueError(f"{weight} is above {high}, the largest weight VPC Lattice takes for a target group")
    return weight


class BackendRef(Strict):
    group: Annotated[str, Field(max_length=253)] = ""
    """Not read by the controller: a ServiceImport is its own, whichever group is written."""
    kind: Literal["Service", "ServiceImport"] = "Service"
    name: DNSSubdomain
    namespace: DNSLabel | None = None
    port: Port | None = None
    weight: Annotated[int, Field(ge=0, strict=True), AfterValidator(_lattice_weight)] = 1
    filters: list[dict] | None = None


class PathMatch(Strict):
    type: Literal["Exact", "PathPrefix"] = "PathPrefix"
    value: Annotated[str, Field(min_length=MATCH_VALUE_LENGTH[0], max_length=MATCH_VALUE_LENGTH[1],
                                pattern=r"^/")] = "/"

    @model_validator(mode="after")
    def _lattice_characters(self) -> "PathMatch":
        if not re.fullmatch(LATTICE_PATH, self.value):
            raise ValueError(f"value: {self.value!r}: VPC Lattice takes only a-z, A-Z, 0-9 and @:%_+.~#?&/=- in a "
                             "path match")
        return self


class HeaderMatch(Strict):
    type: Literal["Exact"] = "Exact"
    name: Annotated[str, Field(min_length=HEADER_NAME_LENGTH[0], max_length=HEADER_NAME_LENGTH[1],
                               pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")]
    value: MatchValue


class HTTPRouteMatch(Strict):
    path: PathMatch | None = None
    headers: list[HeaderMatch] = Field(default_factory=list, max_length=HEADER_MATCHES[1])
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"] | None = None
    queryParams: unsupported("VPC Lattice has no query-parameter match (a rule matches on path, method and "
                             "headers): remove queryParams, or match on a header instead") = None


class GRPCMethodMatch(Strict):
    type: Literal["Exact"] = "Exact"
    service: MatchValue | None = None
    method: MatchValue | None = None

    @model_validator(mode="after")
    def _service_or_method(self) -> "GRPCMethodMatch":
        if self.service is None and self.method is None:
            raise ValueError("a method match names a service, a method, or both")
        if self.service is None:
            raise ValueError("VPC Lattice matches gRPC by path /service/method: name the service too")
        return self


class GRPCRouteMatch(Strict):
    method: GRPCMethodMatch | None = None
    headers: list[HeaderMatch] = Field(default_factory=list, max_length=HEADER_MATCHES[1])


class RouteRule(Strict):
    """What every route kind's rule has: its backends, forwarded to with weights (one Lattice forward action)."""

    name: SectionName | None = None
    backendRefs: list[BackendRef] = Field(default_factory=list, max_length=FORWARD_TARGET_GROUPS[1])
    """None: the rule answers 500 (the Gateway API's rule, a fixed response as the controller builds it)."""

    @model_validator(mode="after")
    def _lattice_rule(self) -> "RouteRule":
        if len(getattr(self, "matches", [])) > 1:
            raise ValueError("VPC Lattice rules take one match each: split this rule into one rule per match")
        return self


class HTTPRouteRule(RouteRule):
    matches: list[HTTPRouteMatch] = Field(default_factory=list)
    filters: list[dict] | None = None
    sessionPersistence: dict | None = None
    retry: dict | None = None
    timeouts: dict | None = None


class GRPCRouteRule(RouteRule):
    matches: list[GRPCRouteMatch] = Field(default_factory=list)
    filters: list[dict] | None = None
    sessionPersistence: dict | None = None


class TLSRouteRule(RouteRule):
    pass


class RouteSpec(Strict):
    parentRefs: list[ParentRef] = Field(min_length=1, max_length=32)
    hostnames: list[Hostname] = Field(default_factory=list, max_length=16)


class HTTPRouteSpec(RouteSpec):
    rules: list[HTTPRouteRule] = Field(min_length=1, max_length=16)


class GRPCRouteSpec(RouteSpec):
    rules: list[GRPCRouteRule] = Field(min_length=1, max_length=16)


class TLSRouteSpec(RouteSpec):
    rules: list[TLSRouteRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_rule(self) -> "TLSRouteSpec":
        if len(self.rules) != 1:
            raise ValueError("a VPC Lattice TLS passthrough listener forwards to exactly one rule: keep one rule")
        if not self.hostnames:
            raise ValueError("hostnames: a TLSRoute needs a hostname: VPC Lattice requires a custom domain name "
                             "(the first hostname) for a TLS passthrough service, and the controller refuses it too")
        if not self.rules[0].backendRefs:
            raise ValueError("rules[0].backendRefs: a TLSRoute's rule needs a backend: its TLS passthrough listener "
                             "can only forward, and the controller refuses it without one")
        return self


class HTTPRoute(Strict):
    apiVersion: Literal["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]
    kind: Literal["HTTPRoute"]
    metadata: ObjectMeta
    spec: HTTPRouteSpec


class GRPCRoute(Strict):
    apiVersion: Literal["gateway.networking.k8s.io/v1"]
    kind: Literal["GRPCRoute"]
    metadata: ObjectMeta
    spec: GRPCRouteSpec


class TLSRoute(Strict):
    apiVersion: Literal["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2",
                        "gateway.networking.k8s.io/v1alpha3"]
    kind: Literal["TLSRoute"]
    metadata: ObjectMeta
    spec: TLSRouteSpec


Route = HTTPRoute | GRPCRoute | TLSRoute
ROUTE_KINDS = (HTTPRoute, GRPCRoute, TLSRoute)
# The ServiceExport routeType each route kind consumes.
ROUTE_TYPE = {"HTTPRoute": "HTTP", "GRPCRoute": "GRPC", "TLSRoute": "TLS"}
# The Gateway listener protocols each route kind attaches to.
LISTENER_PROTOCOLS = {"HTTPRoute": ("HTTP", "HTTPS"), "GRPCRoute": ("HTTPS", "HTTP"), "TLSRoute": ("TLS",)}

KINDS = {
    **{(v, "Gateway"): Gateway for v in ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1")},
    **{(v, "HTTPRoute"): HTTPRoute for v in ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1")},
    ("gateway.networking.k8s.io/v1", "GRPCRoute"): GRPCRoute,
    **{(v, "TLSRoute"): TLSRoute for v in ("gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2",
                                           "gateway.networking.k8s.io/v1alpha3")},
}
