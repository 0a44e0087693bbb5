"""The sharing CRs, one component each: Export, Import, Peer, AccessPolicy (and its privileged twin)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..model.checks import PeerInfo
from ..model.clusterlink import API_VERSION, AccessPolicy, Export, Import, PrivilegedAccessPolicy, cr_body


class _SharingObject(pulumi.ComponentResource):
    """A component around one ClusterLink CR, so the preview shows it by its ClusterLink kind."""

    resource: k8s.apiextensions.CustomResource

    def __init__(self, token: str, name: str, kind: str, metadata: dict[str, Any], spec: dict[str, Any],
                 opts: pulumi.ResourceOptions | None):
        super().__init__(token, name, None, opts)
        self.resource = k8s.apiextensions.CustomResource(
            f"{name}-cr", api_version=API_VERSION, kind=kind, metadata=metadata, spec=spec,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"kind": kind, "name": metadata["name"], "spec": spec})


def _metadata(obj: Any, cluster_scoped: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": obj.metadata.name}
    if not cluster_scoped:
        meta["namespace"] = obj.metadata.namespace
    if obj.metadata.labels:
        meta["labels"] = dict(obj.metadata.labels)
    if obj.metadata.annotations:
        meta["annotations"] = dict(obj.metadata.annotations)
    return meta


class ExportResource(_SharingObject):
    """An Export CR: makes a Service of its namespace available to peers (with a policy allowing it)."""

    def __init__(self, name: str, export: Export, opts: pulumi.ResourceOptions | None = None):
        spec = {"host": export.service, "port": export.spec.port}
        super().__init__("clusterfabric:clusterlink:Export", name, "Export", _metadata(export), spec, opts)


class ImportResource(_SharingObject):
    """An Import CR with its targetPort and lbScheme written explicitly."""

    def __init__(self, name: str, imp: Import, target_port: int, opts: pulumi.ResourceOptions | None = None):
        spec = cr_body(imp) | {"targetPort": target_port, "lbScheme": imp.spec.lbScheme}
        super().__init__("clusterfabric:clusterlink:Import", name, "Import", _metadata(imp), spec, opts)


class PeerResource(_SharingObject):
    """A Peer CR for a remote peer, built from what that peer's stack publishes."""

    def __init__(self, name: str, peer: PeerInfo, namespace: str, opts: pulumi.ResourceOptions | None = None):
        metadata = {"name": peer.name, "namespace": namespace}
        spec = {"gateways": [{"host": h, "port": p} for h, p in peer.gateways]}
        super().__init__("clusterfabric:clusterlink:Peer", name, "Peer", metadata, spec, opts)


class AccessPolicyResource(_SharingObject):
    """An AccessPolicy (namespaced) or PrivilegedAccessPolicy (cluster-wide) CR."""

    def __init__(self, name: str, policy: AccessPolicy | PrivilegedAccessPolicy,
                 opts: pulumi.ResourceOptions | None = None):
        privileged = isinstance(policy, PrivilegedAccessPolicy)
        super().__init__("clusterfabric:clusterlink:AccessPolicy", name, policy.kind,
                         _metadata(policy, cluster_scoped=privileged), cr_body(policy), opts)
