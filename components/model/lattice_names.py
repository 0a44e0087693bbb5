"""Deterministic, valid VPC Lattice names for what the program creates.

Services keep the controller's names (`<route[:20]>-<ns[:18]>`, route_service_name below), so a
controller finds and adopts them; listeners take the controller's names too, made valid where a route's name
holds a character Lattice refuses. Target groups are the program's own: the controller names them
`k8s-<ns>-<service>-<10 random letters>`; here the random part is a hash of what the target group is (its
cluster, source, port, protocol and consuming service), so a plan is repeatable, names are unique per account
and Region across the fabric (checked there, components.model.lattice_rules), and a change of any of these
gives a new name, so Pulumi can create the replacement before it deletes the old one.
"""

from __future__ import annotations

import hashlib
import re

from .lattice import SERVICE_NAME_OVERRIDE
from .limits import NAME_RULES, check, name_problem

HASH_LENGTH = 8


def sanitize(text: str) -> str:
    text = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    return re.sub(r"-{2,}", "-", text).strip("-")


def digest(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:HASH_LENGTH]


def fit(kind: str, *parts: str, suffix: str | None = None) -> str:
    """`parts` joined with '-', sanitized, shortened to the kind's length, then `-<suffix>` when given (or a
    hash of the parts when the name had to be shortened): valid, and still telling what it names."""
    low, high, prefix = NAME_RULES[kind]
    name = sanitize("-".join(parts))
    if prefix and name.startswith(prefix):
        name = "k8s-" + name
    if suffix is None and len(name) > high:
        suffix = digest(*parts)
    if suffix is not None:
        name = sanitize(name[: high - len(suffix) - 1]) + "-" + suffix
    check(name_problem(kind, name))
    return name


def target_group_name(cluster: str, namespace: str, source: str, port: int, protocol: str, version: str | None,
                      consumer: str | None, identity: tuple) -> str:
    """`k8s-<cluster>-<ns>-<source>-<port>-<protocol>[-<version>][-<consumer>]-<hash of identity>`."""
    parts = ["k8s", cluster, namespace, source, str(port), protocol, *([version] if version else []),
             *([consumer] if consumer else [])]
    return fit("target group", *parts, suffix=digest(*identity))


def listener_name(route: str, namespace: str, port: int, protocol: str) -> str:
    """The controller's `<route[:20]>-<ns[:18]>-<port>-<protocol>` (TLS_PASSTHROUGH: `tls`), sanitized."""
    short = "tls" if protocol == "TLS_PASSTHROUGH" else protocol.lower()
    return fit("listener", route[:20].strip("-"), namespace[:18].strip("-"), str(port), short)


def rule_name(route: str, index: int) -> str:
    """`<route>-r<n>`: the controller's `k8s-<creation time>-rule-<priority>` changes at every creation."""
    return fit("rule", route, f"r{index + 1}")


def truncate(text: str, length: int) -> str:
    """The controller's `utils.Truncate`: at most `length` characters, '-' trimmed from both ends."""
    return text[:length].strip("-")


def route_service_name(route) -> str:
    """The Lattice service of a route: `<route[:20]>-<ns[:18]>`, or the override annotation."""
    override = route.metadata.annotations.get(SERVICE_NAME_OVERRIDE)
    return override or f"{truncate(route.metadata.name, 20)}-{truncate(route.metadata.namespace, 18)}"
