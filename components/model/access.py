"""Can an import ever be allowed? ClusterLink's access decision, evaluated ahead of time.

A connection needs `allow` on both peers: egress in the importing cluster
(policies of the Import's namespace) and ingress in the exporting cluster
(policies of the Export's namespace). Each side decides in tiers, first match
wins: PrivilegedAccessPolicy deny, PrivilegedAccessPolicy allow, AccessPolicy
deny, AccessPolicy allow, else deny.

Before deployment the service side is known (export name and namespace, peer
name and labels) but the client workload is not: a selector term about
`client.clusterlink.net/...` may or may not match. So every match is three-valued
(yes, no, maybe) and the result is the set of decisions that remain possible.
An import is reported when `allow` is not among them on one of its peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping, Sequence

from .clusterlink import AccessPolicy, LabelSelector, PrivilegedAccessPolicy, WorkloadSetOrSelector

CLIENT_PREFIX = "client.clusterlink.net/"


class Match(Enum):
    NO = 0
    MAYBE = 1
    YES = 2


def _all(matches: Iterable[Match]) -> Match:
    return min(matches, key=lambda m: m.value, default=Match.YES)


def _any(matches: Iterable[Match]) -> Match:
    return max(matches, key=lambda m: m.value, default=Match.NO)


def _term(key: str, test, attributes: Mapping[str, str] | None) -> Match:
    if attributes is None or key.startswith(CLIENT_PREFIX):
        return Match.MAYBE  # the client workload (or, with None, the whole side) is not known ahead of time
    return Match.YES if test(attributes.get(key)) else Match.NO


def selector_match(selector: LabelSelector, attributes: Mapping[str, str] | None) -> Match:
    terms = [_term(k, lambda v, want=v: v == want, attributes) for k, v in selector.matchLabels.items()]
    for expr in selector.matchExpressions:
        test = {
            "In": lambda v, e=expr: v is not None and v in e.values,
            "NotIn": lambda v, e=expr: v is None or v not in e.values,
            "Exists": lambda v: v is not None,
            "DoesNotExist": lambda v: v is None,
        }[expr.operator]
        terms.append(_term(expr.key, test, attributes))
    return _all(terms)


def list_match(selectors: Sequence[WorkloadSetOrSelector], attributes: Mapping[str, str] | None) -> Match:
    return _any(selector_match(s.workloadSelector, attributes) for s in selectors if s.workloadSelector is not None)


@dataclass(frozen=True)
class Connection:
    """What is known of a connection on one side: the client's and the service's attributes.

    `client` is None when nothing is known of the client (any peer may import an export).
    """

    client: Mapping[str, str] | None
    service: Mapping[str, str]


def decisions(connection: Connection, privileged: Sequence[PrivilegedAccessPolicy],
              namespaced: Sequence[AccessPolicy]) -> set[str]:
    """The decisions one gateway may reach for `connection`."""
    possible: set[str] = set()
    tiers = [(privileged, "deny"), (privileged, "allow"), (namespaced, "deny"), (namespaced, "allow")]
    for policies, action in tiers:
        match = _any(
            _all([list_match(p.spec.from_, connection.client), list_match(p.spec.to, connection.service)])
            for p in policies if p.spec.action == action
        )
        if match is Match.YES:
            possible.add(action)
            return possible
        if match is Match.MAYBE:
            possible.add(action)
    possible.add("deny")
    return possible


def service_attributes(peer: str, peer_labels: Mapping[str, str], export_namespace: str, export_name: str) -> dict[str, str]:
    attributes = {
        "export.clusterlink.net/name": export_name,
        "export.clusterlink.net/namespace": export_namespace,
        "peer.clusterlink.net/name": peer,
    }
    attributes.update({f"peer.clusterlink.net/labels.{k}": v for k, v in peer_labels.items()})
    return attributes


def client_attributes(peer: str, peer_labels: Mapping[str, str], namespace: str) -> dict[str, str]:
    attributes = {"peer.clusterlink.net/name": peer, f"{CLIENT_PREFIX}namespace": namespace}
    attributes.update({f"peer.clusterlink.net/labels.{k}": v for k, v in peer_labels.items()})
    return attributes


def can_allow(connection: Connection, privileged: Sequence[PrivilegedAccessPolicy],
              namespaced: Iterable[AccessPolicy], namespace: str) -> bool:
    relevant = [p for p in namespaced if p.metadata.namespace == namespace]
    return "allow" in decisions(connection, privileged, relevant)


@dataclass(frozen=True)
class Policies:
    """A cluster's access policies, as its manifests declare them or its stack publishes them."""

    privileged: tuple[PrivilegedAccessPolicy, ...] = ()
    namespaced: tuple[AccessPolicy, ...] = ()

    @classmethod
    def of(cls, objects: Iterable[object]) -> "Policies":
        objects = list(objects)
        return cls(tuple(o for o in objects if isinstance(o, PrivilegedAccessPolicy)),
                   tuple(o for o in objects if isinstance(o, AccessPolicy)))

    def allows(self, connection: Connection, namespace: str) -> bool:
        return can_allow(connection, self.privileged, self.namespaced, namespace)


@dataclass(frozen=True)
class PeerAccess:
    """What access analysis knows of a ClusterLink peer, at either end of an import: its name, labels and policies."""

    name: str
    labels: Mapping[str, str]
    policies: Policies


def blocked_sources(imp, importer: PeerAccess, exporters: Mapping[str, PeerAccess]) -> list[tuple[int, str]]:
    """(source index, reason) for each source of Import `imp` that default deny or a deny would block.

    Sources whose peer is unknown (outside the fabric) are only checked on the egress side.
    """
    blocked = []
    for i, source in enumerate(imp.spec.sources):
        exporter = exporters.get(source.peer)
        service = service_attributes(source.peer, exporter.labels if exporter else {},
                                     source.exportNamespace, source.exportName)
        # The same connection is judged twice: by the importer (egress) and the exporter (ingress).
        connection = Connection(client_attributes(importer.name, importer.labels, imp.metadata.namespace), service)
        if not importer.policies.allows(connection, imp.metadata.namespace):
            blocked.append((i, f"no policy can allow it on the egress side (cluster {importer.name!r}, "
                               f"namespace {imp.metadata.namespace!r}); add an AccessPolicy with action allow"))
        if exporter is not None and not exporter.policies.allows(connection, source.exportNamespace):
            blocked.append((i, f"no policy can allow it on the ingress side (cluster {source.peer!r}, "
                               f"namespace {source.exportNamespace!r}); the exporter needs an AccessPolicy "
                               "with action allow"))
    return blocked
