"""Deterministic, valid VPC Lattice names for what the program creates."""

from __future__ import annotations

import hashlib
import re

from ..model.limits import NAME_RULES, check, name_problem


def sanitize(text: str) -> str:
    text = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    return re.sub(r"-{2,}", "-", text).strip("-")


def fit(kind: str, *parts: str) -> str:
    """`parts` joined with '-', sanitized, shortened with a stable hash when over the kind's length."""
    low, high, prefix = NAME_RULES[kind]
    name = sanitize("-".join(parts))
    if prefix and name.startswith(prefix):
        name = "k8s-" + name
    if len(name) > high:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = sanitize(name[: high - 9]) + "-" + digest
    check(name_problem(kind, name))
    return name


def target_group_name(service: str, namespace: str, port: int, protocol: str, protocol_version: str | None) -> str:
    """One target group per Service port and protocol: `k8s-<service>-<ns>-<port>-<protocol>[-<version>]`."""
    parts = ["k8s", service, namespace, str(port), protocol]
    if protocol_version:
        parts.append(protocol_version)
    return fit("target group", *parts)


def listener_name(section: str, port: int) -> str:
    return fit("listener", section, str(port))


def rule_name(route: str, index: int) -> str:
    return fit("rule", route, f"r{index + 1}")
