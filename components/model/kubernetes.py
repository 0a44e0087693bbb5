"""Kubernetes object shapes shared by every manifest kind, with the API server's own limits."""

from __future__ import annotations

import re
from typing import Annotated, Callable, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Checked with fullmatch: `$` also matches before a final newline, and "web\n" would pass as a name.
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _name_check(pattern: re.Pattern[str], max_length: int, what: str) -> Callable[[str], str]:
    """A check of one of Kubernetes' name formats, saying what is allowed when it fails."""

    def check(value: str) -> str:
        if len(value) > max_length or not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not a {what}")
        return value

    return check


def _name_rule(pattern: re.Pattern[str], max_length: int, what: str) -> AfterValidator:
    return AfterValidator(_name_check(pattern, max_length, what))


DNSLabel = Annotated[str, _name_rule(DNS1123_LABEL, 63, "DNS-1123 label: at most 63 characters of a-z, 0-9 and '-', "
                                                       "starting and ending with a letter or digit")]
"""A Kubernetes name limited to a DNS-1123 label (Services, Namespaces, Pulumi stacks here)."""

check_service_name = _name_check(DNS1035_LABEL, 63, "DNS-1035 label: at most 63 characters of a-z, 0-9 and '-', "
                                                    "starting with a letter and ending with a letter or digit")
"""Raises ValueError unless the value is a Service name (for names written where no type says so: annotations)."""
DNS1035Label = Annotated[str, AfterValidator(check_service_name)]
"""A Service name: a DNS-1035 label."""

DNSSubdomain = Annotated[str, _name_rule(DNS1123_SUBDOMAIN, 253, "DNS-1123 subdomain: at most 253 characters of "
                                                               "a-z, 0-9, '-' and '.', each part starting and "
                                                               "ending with a letter or digit")]
"""A Kubernetes object name (most kinds): a DNS-1123 subdomain."""

LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")


def _label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if (prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.fullmatch(prefix))) or not 0 < len(name) <= 63 \
            or not LABEL_NAME.fullmatch(name):
        raise ValueError(f"{value!r} is not a label key: an optional DNS subdomain and '/', then at most 63 "
                         "characters of a-z, A-Z, 0-9, '-', '_' and '.', starting and ending with a letter or digit")
    return value


def _label_value(value: str) -> str:
    if len(value) > 63 or not LABEL_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a label value: at most 63 characters of a-z, A-Z, 0-9, '-', '_' and "
                         "'.', starting and ending with a letter or digit")
    return value


Labels = dict[Annotated[str, AfterValidator(_label_key)], Annotated[str, AfterValidator(_label_value)]]
"""Kubernetes labels, checked as the API server checks them (where they become arguments, such as a peer's)."""


def _hostname(value: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if len(value) > 253 or not DNS1123_SUBDOMAIN.fullmatch(value):
        raise ValueError(f"{value!r} is not a host: a DNS name (at most 253 characters of a-z, 0-9, '-' and '.', "
                         "each part starting and ending with a letter or digit) or an IP address")
    return value


Hostname = Annotated[str, AfterValidator(_hostname)]
"""A host to connect to: a DNS name (lower case, as Kubernetes writes them) or an IPv4/IPv6 address."""

Port = Annotated[int, Field(ge=1, le=65535, strict=True)]
"""A TCP/UDP port, 1-65535. Integer fields are strict: Kubernetes refuses a quoted number such as `"80"` where an
integer goes, so every integer field of a manifest refuses it alike (components.model.validation says why)."""


class Strict(BaseModel):
    """Base of every manifest model: unknown fields are errors, not silently dropped.

    Each model's validator is built on its first use (`defer_build`): a ClusterLink stack never reads a Gateway,
    and building every kind's validator at import cost each program run about 0.1 s."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


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
    nodePort: Port | None = None


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
