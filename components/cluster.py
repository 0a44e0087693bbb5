"""The cluster: one stack's Kubernetes provider, namespaces, Services and dataplane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from .clusterlink.cluster import ClusterLinkArgs, ClusterLinkCluster
from .contract import ClusterTarget
from .moved import urn_type
from .model import ClusterManifests, ClusterSpec, PeerInfo, Service
from .model.certificates import CertificateSettings
from .model.lattice_imports import ExportKey, LatticeExport
from .model.lattice_fabric import LatticeFabric
from .ports import node_ports

if TYPE_CHECKING:
    from .lattice.cluster import LatticeCluster

# Namespaces every cluster has; declaring them would fight the API server.
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


class ClusterLinkInputs(BaseModel):
    """What a ClusterLink cluster takes from other stacks."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    remote_peers: dict[str, PeerInfo]
    fabric_ca_cert: pulumi.Output[str] | str
    """The fabric CA's certificate (PEM)."""
    peer_cert: pulumi.Output[str] | str
    """This peer's certificate (PEM), issued by the fabric CA."""
    peer_key: pulumi.Output[str] | str
    """This peer's private key (PEM), a Pulumi secret."""
    certificate_validity: CertificateSettings = CertificateSettings()
    """How long the cluster's own certificates are issued for (fabric.yaml `certificates:`)."""


class LatticeInputs(BaseModel):
    """What a Lattice cluster takes from the fabric's desired state and from other stacks."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    fabric: LatticeFabric
    """Every Lattice cluster's desired state (components.model.lattice_fabric): this cluster declares its part."""
    networks: dict[Any, dict[str, Any]]
    """(account and Region, name) -> {id, arn, share?} of each service network this cluster joins and another stack
    creates, as that stack published it."""
    published: dict[ExportKey, LatticeExport]
    """The exports of other stacks this cluster forwards to, as they published them (with their target groups)."""


class ClusterArgs(BaseModel):
    """What a cluster stack is built from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    spec: ClusterSpec
    manifests: ClusterManifests
    target: ClusterTarget
    clusterlink: ClusterLinkInputs | None = None
    lattice: LatticeInputs | None = None


class Cluster(pulumi.ComponentResource):
    """A cluster of the fabric: its Kubernetes provider, namespaces, Services, and its dataplane."""

    provider: k8s.Provider
    namespaces: dict[str, k8s.core.v1.Namespace]
    services: dict[str, k8s.core.v1.Service]
    clusterlink: ClusterLinkCluster | None
    # `lattice` (LatticeCluster | None) is annotated where it is set: the SDK resolves a component's class
    # annotations at run time, and the Lattice code is imported only for a Lattice cluster.

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        target = args.target
        if target.render_directory:
            # A rendered object's replacement writes the same file: the old one must go first, or its
            # deletion would remove the new file. (Applied to a cluster, the default order is kept.)
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[_delete_before_replace]))
        else:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=[_applied(target)]))
        # In-process transformations, not `transforms`: those cost an engine callback per resource (2.4x the
        # time of a 300-object `up` without per-step checkpoints, bench/FINDINGS.md) and need a callback server
        # the offline plan's mocks lack.
        super().__init__("clusterfabric:index:Cluster", name, None, opts)
        self.urn_type = urn_type("clusterfabric:index:Cluster", opts.parent)  # for release 0.1's aliases
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            render_yaml_to_directory=str(target.render_directory) if target.render_directory else None,
            kubeconfig=None if target.render_directory else target.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        self.namespaces = {
            ns: k8s.core.v1.Namespace(f"{name}-{ns}", metadata={"name": ns}, opts=child)
            for ns in sorted(_namespaces(args) - BUILTIN_NAMESPACES)
        }
        nodes = node_ports(args.spec, args.manifests)
        chosen: dict[tuple[str, str], dict[int, int]] = {}
        for (ns, service, port), node in nodes.items():
            chosen.setdefault((ns, service), {})[port] = node
        self.services = {
            f"{s.namespace}/{s.name}": _service(name, s, self._in_namespace(s.namespace),
                                                chosen.get((s.namespace, s.name), {}))
            for s in args.manifests.services
        }
        self.clusterlink = None
        if args.clusterlink is not None:
            self.clusterlink = ClusterLinkCluster(f"{name}-clusterlink", ClusterLinkArgs(
                spec=args.spec, manifests=args.manifests, remote_peers=args.clusterlink.remote_peers,
                fabric_ca_cert=args.clusterlink.fabric_ca_cert, peer_cert=args.clusterlink.peer_cert,
                peer_key=args.clusterlink.peer_key, certificate_validity=args.clusterlink.certificate_validity,
                namespace_options=self._in_namespace,
            ), opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.provider}))
        self.lattice: LatticeCluster | None = None
        if args.lattice is not None:
            # Imported here: the AWS SDK and the Lattice components would cost every ClusterLink stack ~0.1 s.
            from .lattice.cluster import LatticeArgs, LatticeCluster

            self.lattice = LatticeCluster(f"{name}-lattice", LatticeArgs(
                spec=args.spec, manifests=args.manifests, fabric=args.lattice.fabric,
                networks=args.lattice.networks, published=args.lattice.published, node_ports=nodes,
            ), opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"services": sorted(self.services), "namespaces": sorted(self.namespaces)})

    def _in_namespace(self, namespace: str) -> pulumi.ResourceOptions:
        """Options for an object of `namespace`: this cluster's provider, created after its namespace."""
        depends = [self.namespaces[namespace]] if namespace in self.namespaces else []
        return pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=depends)


def _delete_before_replace(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(delete_before_replace=True)))


def _applied(target: ClusterTarget):
    """Annotations for objects applied to an API server. The fabric owns what it declares, so `up` takes
    back a field someone changed by hand (server-side apply with force: a hand edit is drift to undo, not a
    co-owner to yield to). With no controllers (a local control plane), the provider neither waits for
    objects to become ready nor deletes in the foreground: only the garbage collector would ever clear a
    foreground deletion's finalizer."""
    annotations = {"pulumi.com/patchForce": "true"}
    if not target.controllers:
        annotations.update({"pulumi.com/skipAwait": "true", "pulumi.com/deletionPropagationPolicy": "background"})

    def annotated(metadata: dict[str, Any] | None) -> dict[str, Any]:
        metadata = dict(metadata or {})
        metadata["annotations"] = {**(metadata.get("annotations") or {}), **annotations}
        return metadata

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not args.type_.startswith("kubernetes:") or not isinstance(args.resource, pulumi.CustomResource):
            return None
        metadata = args.props.get("metadata")
        metadata = metadata.apply(annotated) if isinstance(metadata, pulumi.Output) else annotated(metadata)
        return pulumi.ResourceTransformationResult({**args.props, "metadata": metadata}, args.opts)

    return transform


def _namespaces(args: ClusterArgs) -> set[str]:
    found = {getattr(o.metadata, "namespace", None) for o in args.manifests.objects}
    if args.spec.clusterlink is not None:
        found.add(args.spec.clusterlink.namespace)
    return {ns for ns in found if ns}


def _service(cluster: str, service: Service, opts: pulumi.ResourceOptions,
             chosen: dict[int, int]) -> k8s.core.v1.Service:
    """The Service; `chosen`: the NodePort pinned for each of its ports that Lattice reaches (port -> node)."""
    spec = service.spec.model_dump(exclude_none=True)
    if chosen:
        # Lattice instance targets reach the Service on every node: a NodePort, pinned so it never moves.
        spec["type"] = "NodePort" if spec["type"] == "ClusterIP" else spec["type"]
        for port in spec["ports"]:
            if port["port"] in chosen:
                port["nodePort"] = chosen[port["port"]]
    return k8s.core.v1.Service(
        f"{cluster}-{service.namespace}-{service.name}",
        metadata=service.metadata.model_dump(),
        spec=spec,
        opts=opts,
    )
