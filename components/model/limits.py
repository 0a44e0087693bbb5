"""The VPC Lattice API's own constraints (botocore's service model), in one place.

The components check every value before they hand it to a `vpclattice`
resource, and the tests check every value the components hand over: what the
API would refuse at `up` is refused at preview instead.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

NAME = re.compile(r"^(?!-)(?!.*--)[a-z0-9-]+(?<!-)$")

# kind -> (min length, max length, forbidden prefix)
NAME_RULES = {
    "service network": (3, 63, None),
    "service": (3, 40, "svc-"),
    "target group": (3, 128, "tg-"),
    "listener": (3, 63, "listener-"),
    "rule": (3, 63, "rule-"),
}
PORT = (1, 65535)
RULE_PRIORITY = (1, 100)  # the API allows 1-2000; the controller (and so this program) uses 1-100
WEIGHT = (0, 999)
FORWARD_TARGET_GROUPS = (1, 10)
HEADER_MATCHES = (0, 5)
MATCH_VALUE_LENGTH = (1, 200)
HEADER_NAME_LENGTH = (1, 100)  # the Lattice API's HeaderMatchName
PROTOCOLS = {"listener": {"HTTP", "HTTPS", "TLS_PASSTHROUGH"}, "target group": {"HTTP", "HTTPS", "TCP"}}
PROTOCOL_VERSIONS = {"HTTP1", "HTTP2", "GRPC"}
TARGET_GROUP_TYPES = {"IP", "LAMBDA", "INSTANCE", "ALB"}
AUTH_TYPES = {"NONE", "AWS_IAM"}
AUTH_POLICY_BYTES = 10 * 1024  # the quota "Auth policy size", in bytes, not adjustable
HEALTH_CHECK = {"intervalSeconds": (5, 300), "timeoutSeconds": (1, 120), "healthyThresholdCount": (2, 10),
                "unhealthyThresholdCount": (2, 10)}


def name_problem(kind: str, value: str) -> str | None:
    """Why `value` is not a valid Lattice name of `kind`, or None."""
    low, high, prefix = NAME_RULES[kind]
    if not low <= len(value) <= high:
        return f"{kind} name {value!r} must be {low}-{high} characters (has {len(value)})"
    if not NAME.fullmatch(value):
        return (f"{kind} name {value!r} may only hold a-z, 0-9 and '-', not start or end with '-', "
                "and not contain '--'")
    if prefix and value.startswith(prefix):
        return f"{kind} name {value!r} must not start with {prefix!r} (reserved by VPC Lattice)"
    return None


def service_name_problem(value: str) -> str | None:
    return name_problem("service", value)


def in_range(what: str, value: int, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    return None if low <= value <= high else f"{what} {value} is outside {low}-{high}"


def count_problem(what: str, items: Iterable[Any], bounds: tuple[int, int]) -> str | None:
    n = len(list(items))
    low, high = bounds
    return None if low <= n <= high else f"{what} has {n} entries; VPC Lattice allows {low}-{high}"


def check(*problems: str | None) -> None:
    """Raise on the first problem: a value the components are about to send would be refused by the API."""
    found = [p for p in problems if p]
    if found:
        raise ValueError("VPC Lattice would refuse: " + "; ".join(found))
