"""Gateway API kinds as the AWS Gateway API Controller reads them: Gateway, HTTPRoute, GRPCRoute, TLSRoute.

Fields mirror `gateway.networking.k8s.io` (shared/crds/gateway-api) with the
limits of its CRDs. What VPC Lattice cannot express is refused here with the
reason, instead of being silently dropped later: regular-expression paths,
several matches in one rule, header matches other than Exact, more than five
header matches, backend kinds other than Service and ServiceImport.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .kubernetes import DNSLabel, DNSSubdomain, ObjectMeta, Port, Strict

GROUP = "gateway.networking.k8s.io"
MAX_HEADER_MATCHES = 5
MAX_MATCH_VALUE = 200

SectionName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
Hostname = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
MatchValue = Annotated[str, Field(min_length=1, max_length=MAX_MATCH_VALUE)]


class GatewayTLS(Strict):
    mode: Literal["Terminate", "Passthrough"] = "Terminate"
    certificateRefs: list[dict] = Field(default_factory=list)
    options: dict[str, str] = Field(default_factory=dict)


class Listener(Strict):
    name: SectionName
    hostname: Hostname | None = None
    port: Port
    protocol: Literal["HTTP", "HTTPS", "TLS"]
    tls: GatewayTLS | None = None
    allowedRoutes: dict | None = None

    @property
    def passthrough(self) -> bool:
        return self.protocol == "TLS" and (self.tls is None or self.tls.mode == "Passthrough")


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


class ParentRef(Strict):
    group: str | None = None
    kind: Literal["Gateway"] = "Gateway"
    name: DNSSubdomain
    namespace: DNSLabel | None = None
    sectionName: SectionName | None = None
    port: Port | None = None


class BackendRef(Strict):
    group: Literal["", "application-networking.k8s.aws"] = ""
    kind: Literal["Service", "ServiceImport"] = "Service"
    name: DNSSubdomain
    namespace: DNSLabel | None = None
    port: Port | None = None
    weight: Annotated[int, Field(ge=0, le=1_000_000)] = 1
    filters: list[dict] | None = None


class PathMatch(Strict):
    type: Literal["Exact", "PathPrefix"] = "PathPrefix"
    value: Annotated[str, Field(min_length=1, max_length=MAX_MATCH_VALUE, pattern=r"^/")] = "/"


class HeaderMatch(Strict):
    type: Literal["Exact"] = "Exact"
    name: Annotated[str, Field(min_length=1, max_length=MAX_MATCH_VALUE, pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")]
    value: MatchValue


class HTTPRouteMatch(Strict):
    path: PathMatch | None = None
    headers: list[HeaderMatch] = Field(default_factory=list, max_length=MAX_HEADER_MATCHES)
    method: Literal["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"] | None = None
    queryParams: None = Field(default=None, description="not supported by VPC Lattice")


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
    headers: list[HeaderMatch] = Field(default_factory=list, max_length=MAX_HEADER_MATCHES)


def _one_match(matches: list) -> list:
    if len(matches) > 1:
        raise ValueError("VPC Lattice rules take one match each: split this rule into one rule per match")
    return matches


class HTTPRouteRule(Strict):
    name: SectionName | None = None
    matches: list[HTTPRouteMatch] = Field(default_factory=list)
    backendRefs: list[BackendRef] = Field(min_length=1, max_length=10)
    filters: None = Field(default=None, description="not supported by VPC Lattice")
    timeouts: dict | None = None

    @model_validator(mode="after")
    def _lattice_rule(self) -> "HTTPRouteRule":
        _one_match(self.matches)
        return self


class GRPCRouteRule(Strict):
    name: SectionName | None = None
    matches: list[GRPCRouteMatch] = Field(default_factory=list)
    backendRefs: list[BackendRef] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _lattice_rule(self) -> "GRPCRouteRule":
        _one_match(self.matches)
        return self


class TLSRouteRule(Strict):
    name: SectionName | None = None
    backendRefs: list[BackendRef] = Field(min_length=1, max_length=10)


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
