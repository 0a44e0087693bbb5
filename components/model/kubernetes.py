"""Kubernetes object shapes shared by every manifest kind, with the API server's own limits."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _label(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label: at most 63 characters of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _dns1035(value: str) -> str:
    if len(value) > 63 or not DNS1035_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1035 label: at most 63 characters of a-z, 0-9 and '-', "
            "starting with a letter and ending with a letter or digit"
        )
    return value


def _subdomain(value: str) -> str:
    if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 subdomain: at most 253 characters of a-z, 0-9, '-' and '.', "
            "each part starting and ending with a letter or digit"
        )
    return value


DNSLabel = Annotated[str, AfterValidator(_label)]
"""A Kubernetes name limited to a DNS-1123 label (Services, Namespaces, Pulumi stacks here)."""

DNS1035Label = Annotated[str, AfterValidator(_dns1035)]
"""A Service name: a DNS-1035 label."""

DNSSubdomain = Annotated[str, AfterValidator(_subdomain)]
"""A Kubernetes object name (most kinds): a DNS-1123 subdomain."""

Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
"""A TCP/UDP port, 1-65535."""


class Strict(BaseModel):
    """Base of every manifest model: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ObjectMeta(Strict):
    """The part of `metadata` the program reads; other metadata fields are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    name: DNSSubdomain
    namespace: DNSLabel = "default"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ServiceMeta(ObjectMeta):
    name: DNS1035Label


class ServicePort(Strict):
    name: DNSLabel | None = None
    port: Port
    targetPort: Port | str | None = None
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    appProtocol: str | None = None
    nodePort: Annotated[int, Field(ge=1, le=65535)] | None = None


class ServiceSpec(Strict):
    model_config = ConfigDict(extra="ignore")

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    selector: dict[str, str] = Field(default_factory=dict)
    ports: list[ServicePort] = Field(min_length=1)


class Service(Strict):
    """A core/v1 Service the cluster owns (its backends for exports and routes)."""

    apiVersion: Literal["v1"]
    kind: Literal["Service"]
    metadata: ServiceMeta
    spec: ServiceSpec

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def namespace(self) -> str:
        return self.metadata.namespace
