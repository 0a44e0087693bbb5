"""The sharing CRs: Export, Import, Peer, AccessPolicy (and its privileged twin), each declared as its CR.

A preview shows each by its ClusterLink kind already (`kubernetes:clusterlink.net/v1alpha1:Export`),
so no component wraps them (see components/moved.py for the aliases from release 0.1's wrappers).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..model import PeerInfo
from ..model.clusterlink import API_VERSION, AccessPolicy, Export, Import, PrivilegedAccessPolicy, cr_body
from ..moved import FormerWrapper


def _cr(token: str, name: str, kind: str, metadata: dict[str, Any], spec: dict[str, Any],
        opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """One ClusterLink CR, known to release 0.1 as `<name>-cr` inside a `token` component of `name`."""
    wrapper = FormerWrapper(f"clusterfabric:clusterlink:{token}", name, opts.parent)
    opts = wrapper.options(opts, f"kubernetes:{API_VERSION}:{kind}", f"{name}-cr")
    return k8s.apiextensions.CustomResource(name, api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec,
                                            opts=opts)


def _metadata(obj: Any, cluster_scoped: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": obj.metadata.name}
    if not cluster_scoped:
        meta["namespace"] = obj.metadata.namespace
    if obj.metadata.labels:
        meta["labels"] = dict(obj.metadata.labels)
    if obj.metadata.annotations:
        meta["annotations"] = dict(obj.metadata.annotations)
    return meta


def export_cr(name: str, export: Export, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """An Export CR: makes a Service of its namespace (or `spec.host`) available to peers (with a policy
    allowing it). The host is written only when given: ClusterLink's default is the Service's full name."""
    spec = cr_body(export)
    return _cr("Export", name, "Export", _metadata(export), spec, opts)


def import_cr(name: str, imp: Import, target_port: int,
              opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """An Import CR with its targetPort and lbScheme written explicitly."""
    spec = cr_body(imp) | {"targetPort": target_port, "lbScheme": imp.spec.lbScheme}
    return _cr("Import", name, "Import", _metadata(imp), spec, opts)


def peer_cr(name: str, peer: PeerInfo, namespace: str, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """A Peer CR for a remote peer, built from what that peer's stack publishes."""
    metadata = {"name": peer.name, "namespace": namespace}
    spec = {"gateways": [{"host": h, "port": p} for h, p in peer.gateways]}
    return _cr("Peer", name, "Peer", metadata, spec, opts)


def access_policy_cr(name: str, policy: AccessPolicy | PrivilegedAccessPolicy,
                     opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """An AccessPolicy (namespaced) or PrivilegedAccessPolicy (cluster-wide) CR."""
    privileged = isinstance(policy, PrivilegedAccessPolicy)
    return _cr("AccessPolicy", name, policy.kind, _metadata(policy, cluster_scoped=privileged), cr_body(policy), opts)
