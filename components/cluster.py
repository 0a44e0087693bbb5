"""The cluster: one stack's Kubernetes provider and the objects it owns."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from .model import ClusterManifests, ClusterSpec, Service

# Namespaces every cluster has; declaring them would fight the API server.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class ClusterArgs(BaseModel):
    """What a cluster stack is built from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    spec: ClusterSpec
    manifests: ClusterManifests
    render_directory: Path | None
    """Write manifests here instead of applying them (the local default, and GitOps output)."""


class Cluster(pulumi.ComponentResource):
    """A cluster of the fabric: its Kubernetes provider, namespaces and Services."""

    provider: k8s.Provider
    services: dict[str, k8s.core.v1.Service]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:index:Cluster", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            render_yaml_to_directory=str(args.render_directory) if args.render_directory else None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        namespaces = {
            ns: k8s.core.v1.Namespace(f"{name}-{ns}", metadata={"name": ns}, opts=child)
            for ns in sorted({s.namespace for s in args.manifests.services} - BUILTIN_NAMESPACES)
        }
        self.services = {
            f"{s.namespace}/{s.name}": _service(name, s, namespaces.get(s.namespace), child)
            for s in args.manifests.services
        }
        self.register_outputs({"services": sorted(self.services)})


def _service(cluster: str, service: Service, namespace: k8s.core.v1.Namespace | None,
             opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
    depends = [namespace] if namespace else []
    return k8s.core.v1.Service(
        f"{cluster}-{service.namespace}-{service.name}",
        metadata=service.metadata.model_dump(exclude_defaults=False),
        spec=service.spec.model_dump(exclude_none=True),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends)),
    )
