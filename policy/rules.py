"""The fabric's guard rails as plain functions: (resource type, properties, URN) in, violation messages out.

They guard whatever a stack declares, through the components or not. The
Lattice limits and the access decision are the model's own code
(components.model.limits and components.model.access), so the pack and the
program cannot disagree. `__main__.py` wires each rule into the policy pack.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Iterable

from clusterfabric.components.model import limits
from clusterfabric.components.model.access import Connection, Policies, service_attributes
from clusterfabric.components.model.clusterlink import AccessPolicy, PrivilegedAccessPolicy, target_port_problem
from clusterfabric.components.model.json_values import DESCEND, rebuilt

PLATFORM = "clusterfabric:clusterlink:Platform"
PUBLIC_ANNOTATION = "clusterfabric.io/public"
CLUSTERLINK_CRS = "kubernetes:clusterlink.net/v1alpha1:"
LATTICE = "aws:vpclattice/"
NAMED = {"serviceNetwork:ServiceNetwork": "service network", "service:Service": "service",
         "targetGroup:TargetGroup": "target group", "listener:Listener": "listener",
         "listenerRule:ListenerRule": "rule"}


class Secret:
    """A property value the engine holds as a Pulumi secret."""

    def __init__(self, value: Any):
        self.value = value


def plain(value: Any) -> Any:
    """`value` with every secret unwrapped, for rules that only read it."""
    return rebuilt(value, lambda v: plain(v.value) if isinstance(v, Secret) else DESCEND)


def _name(urn: str) -> str:
    return urn.split("::")[-1]


# --- VPC Lattice --------------------------------------------------------------------


def lattice_network_auth(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype == f"{LATTICE}serviceNetwork:ServiceNetwork" and props.get("authType") != "AWS_IAM":
        return [f"service network {props.get('name')!r} ({_name(urn)}) uses auth type {props.get('authType')}: any "
                "client in an associated VPC can call its services. Add an IAMAuthPolicy targeting its Gateway."]
    return []


def lattice_service_auth(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype == f"{LATTICE}service:Service" and props.get("authType") != "AWS_IAM":
        return [f"Lattice service {props.get('name')!r} ({_name(urn)}) has no IAM auth of its own and relies on its "
                "service network's. Add an IAMAuthPolicy targeting the route to require it here too."]
    return []


def lattice_auth_policy_principals(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype != f"{LATTICE}authPolicy:AuthPolicy":
        return []
    try:
        document = json.loads(props.get("policy") or "{}")
    except (TypeError, json.JSONDecodeError):
        return [f"auth policy {_name(urn)} is not a JSON policy document"]
    statements = document.get("Statement", [])
    found = []
    for i, statement in enumerate(statements if isinstance(statements, list) else [statements]):
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and "*" in (
            principal.get("AWS") if isinstance(principal.get("AWS"), list) else [principal.get("AWS")]))
        if statement.get("Effect") == "Allow" and anyone and not statement.get("Condition"):
            found.append(f"auth policy {_name(urn)}: statement {i} allows Principal \"*\" without a Condition, so "
                         "any AWS principal may call it. Name the principals, or add a Condition (for example on "
                         "aws:PrincipalOrgID).")
    return found


def lattice_limits(rtype: str, props: dict, urn: str) -> list[str]:
    """Names, ports, priorities and weights within the Lattice API's limits."""
    if not rtype.startswith(LATTICE):
        return []
    kind = rtype.removeprefix(LATTICE)
    found = []
    if kind in NAMED and isinstance(props.get("name"), str):
        found.append(limits.name_problem(NAMED[kind], props["name"]))
    if kind == "listener:Listener" and isinstance(props.get("port"), (int, float)):
        found.append(limits.in_range("listener port", int(props["port"]), limits.PORT))
    if kind == "targetGroup:TargetGroup":
        port = (props.get("config") or {}).get("port")
        if isinstance(port, (int, float)):
            found.append(limits.in_range("target group port", int(port), limits.PORT))
    if kind == "listenerRule:ListenerRule" and isinstance(props.get("priority"), (int, float)):
        found.append(limits.in_range("rule priority", int(props["priority"]), limits.RULE_PRIORITY))
        match = ((props.get("match") or {}).get("httpMatch") or {})
        found.append(limits.count_problem("header matches", match.get("headerMatches") or [], limits.HEADER_MATCHES))
    return [f"{_name(urn)}: {p}. Change it in the manifest it comes from." for p in found if p]


def _forwards(rtype: str, props: dict) -> Iterable[list]:
    if rtype == f"{LATTICE}listenerRule:ListenerRule":
        forward = ((props.get("action") or {}).get("forward") or {})
        if forward:
            yield forward.get("targetGroups") or []
    if rtype == f"{LATTICE}listener:Listener":
        for forward in ((props.get("defaultAction") or {}).get("forwards") or []):
            yield forward.get("targetGroups") or []


def lattice_forward_actions(rtype: str, props: dict, urn: str) -> list[str]:
    found = []
    for groups in _forwards(rtype, props):
        weights = [g.get("weight", 1) for g in groups if isinstance(g.get("weight", 1), (int, float))]
        problem = limits.count_problem("forward action target groups", groups, limits.FORWARD_TARGET_GROUPS)
        problem = problem or next((limits.in_range("weight", int(w), limits.WEIGHT) for w in weights
                                   if limits.in_range("weight", int(w), limits.WEIGHT)), None)
        if problem is None and weights and sum(weights) <= 0:
            problem = "a forward action needs a positive total weight"
        if problem:
            found.append(f"{_name(urn)}: {problem}. Fix the route's backendRefs (1-10, weights 0-999, not all 0).")
    return found


# --- ClusterLink -----------------------------------------------------------------


def import_target_port(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype != f"{CLUSTERLINK_CRS}Import":
        return []
    port = (props.get("spec") or {}).get("targetPort")
    problem = target_port_problem(int(port)) if isinstance(port, (int, float)) else None
    return [f"Import {_meta(props)} has {problem}."] if problem else []


def _meta(props: dict) -> str:
    meta = props.get("metadata") or {}
    return f"{meta.get('namespace', '-')}/{meta.get('name', '?')}"


def unique_target_ports(resources: list[tuple[str, dict, str]]) -> list[str]:
    by_port: dict[int, list[str]] = {}
    for rtype, props, _ in resources:
        port = (props.get("spec") or {}).get("targetPort")
        if rtype == f"{CLUSTERLINK_CRS}Import" and isinstance(port, (int, float)):
            by_port.setdefault(int(port), []).append(_meta(props))
    return [f"Imports {' and '.join(sorted(names))} share targetPort {port}; each needs its own data plane port."
            for port, names in sorted(by_port.items()) if len(names) > 1]


def _policies(resources: list[tuple[str, dict, str]]) -> Policies:
    privileged, namespaced = [], []
    for rtype, props, _ in resources:
        kind = rtype.removeprefix(CLUSTERLINK_CRS)
        if kind in ("AccessPolicy", "PrivilegedAccessPolicy"):
            body = {"apiVersion": "clusterlink.net/v1alpha1", "kind": kind,
                    "metadata": {k: v for k, v in (props.get("metadata") or {}).items() if k in ("name", "namespace")},
                    "spec": props.get("spec") or {}}
            if kind == "AccessPolicy":
                namespaced.append(AccessPolicy.model_validate(body))
            else:
                privileged.append(PrivilegedAccessPolicy.model_validate(body))
    return Policies(tuple(privileged), tuple(namespaced))


def clusterlink_access(resources: list[tuple[str, dict, str]]) -> list[str]:
    """Every Export has a policy that can allow it (ingress); every Import one that can allow its use (egress)."""
    policies = _policies(resources)
    found = []
    for rtype, props, _ in resources:
        kind = rtype.removeprefix(CLUSTERLINK_CRS)
        meta = props.get("metadata") or {}
        namespace = meta.get("namespace", "default")
        if kind == "Export":
            # Any client from any peer: only the service side is known.
            connection = Connection(None, service_attributes("", {}, namespace, meta.get("name", "")))
            if not policies.allows(connection, namespace):
                found.append(f"Export {_meta(props)} has no AccessPolicy that can allow it: default deny blocks every "
                             f"importer. Add an AccessPolicy with action allow in namespace {namespace!r}.")
        elif kind == "Import":
            sources = (props.get("spec") or {}).get("sources") or []
            for source in sources:
                connection = Connection({"client.clusterlink.net/namespace": namespace}, service_attributes(
                    source.get("peer", ""), {}, source.get("exportNamespace", ""), source.get("exportName", "")))
                if not policies.allows(connection, namespace):
                    found.append(f"Import {_meta(props)} (from peer {source.get('peer')!r}) has no egress allow: "
                                 f"default deny blocks it. Add an AccessPolicy with action allow in namespace "
                                 f"{namespace!r}.")
    return found


def privileged_access_policy(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype == f"{CLUSTERLINK_CRS}PrivilegedAccessPolicy":
        return [f"PrivilegedAccessPolicy {(props.get('metadata') or {}).get('name')} applies to every namespace; "
                "sharing is meant to stay namespaced: prefer an AccessPolicy in the namespaces concerned."]
    return []


def cluster_rbac(rtype: str, props: dict, urn: str) -> list[str]:
    if rtype in ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
                 "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding") and PLATFORM not in urn:
        kind = rtype.rsplit(":", 1)[1]
        return [f"{kind} {(props.get('metadata') or {}).get('name')} ({_name(urn)}) grants rights across the "
                "cluster outside the ClusterLink platform; use a namespaced Role and RoleBinding."]
    return []


# --- secrets and exposure -----------------------------------------------------------


def _plaintext_keys(value: Any, path: str = "") -> Iterable[str]:
    if isinstance(value, Secret):
        return
    if isinstance(value, str) and "PRIVATE KEY-----" in value:
        yield path or "-"
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _plaintext_keys(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _plaintext_keys(v, f"{path}[{i}]")


def secrets_are_secret(rtype: str, raw_props: dict, urn: str) -> list[str]:
    """Secret data, and any private key anywhere, must be Pulumi secrets (`raw_props` keeps the secret marks)."""
    found = [f"{_name(urn)}: property {path} holds a private key in plaintext; make it a Pulumi secret "
             "(pulumi.Output.secret)." for path in _plaintext_keys(raw_props)]
    if rtype == "kubernetes:core/v1:Secret":
        for field in ("data", "stringData"):
            value = raw_props.get(field)
            if isinstance(value, Mapping):
                for key, item in value.items():
                    if not isinstance(item, Secret):
                        found.append(f"Secret {_meta(plain(raw_props))}: {field}.{key} is not a Pulumi secret, so it "
                                     "would be stored in plaintext in the state; wrap it in pulumi.Output.secret.")
    return found


def exposed_exports(resources: list[tuple[str, dict, str]]) -> list[str]:
    """A Service shared with other clusters is reached through ClusterLink or Lattice, not a public load balancer."""
    exported: set[tuple[str, str]] = set()
    for rtype, props, _ in resources:
        if rtype == f"{CLUSTERLINK_CRS}Export":
            meta, spec = props.get("metadata") or {}, props.get("spec") or {}
            exported.add((meta.get("namespace", "default"), spec.get("host") or meta.get("name")))
        if rtype == f"{LATTICE}targetGroup:TargetGroup":
            tags = props.get("tags") or {}
            exported.add((tags.get("application-networking.k8s.aws/ServiceNamespace"),
                          tags.get("application-networking.k8s.aws/ServiceName")))
    found = []
    for rtype, props, urn in resources:
        if rtype != "kubernetes:core/v1:Service" or PLATFORM in urn:
            continue
        meta = props.get("metadata") or {}
        public = (meta.get("annotations") or {}).get(PUBLIC_ANNOTATION) == "true"
        key = (meta.get("namespace", "default"), meta.get("name"))
        if key in exported and (props.get("spec") or {}).get("type") == "LoadBalancer" and not public:
            found.append(f"Service {key[0]}/{key[1]} is exported and also a LoadBalancer, reachable from outside the "
                         f"fabric. Make it ClusterIP, or annotate it {PUBLIC_ANNOTATION}: \"true\" if that is meant.")
    return found
