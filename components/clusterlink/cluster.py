"""The ClusterLink side of one cluster: platform, remote Peers, Exports, Imports, policies."""

from __future__ import annotations

from typing import Callable

import pulumi
from pydantic import BaseModel, ConfigDict

from ..model import ClusterManifests, ClusterSpec, PeerInfo
from ..model.clusterlink import AccessPolicy, Export, Import, Peer, PrivilegedAccessPolicy
from ..moved import urn_type
from .platform import Platform, PlatformArgs
from ..ports import assign_target_ports
from .sharing import access_policy_cr, export_cr, import_cr, peer_cr


class ClusterLinkArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    spec: ClusterSpec
    manifests: ClusterManifests
    remote_peers: dict[str, PeerInfo]
    """The fabric peers this cluster imports from, as their stacks publish them."""
    fabric_ca_cert: pulumi.Output[str] | str
    """The fabric CA's certificate (PEM)."""
    peer_cert: pulumi.Output[str] | str
    """This peer's certificate (PEM), issued by the fabric CA."""
    peer_key: pulumi.Output[str] | str
    """This peer's private key (PEM), a Pulumi secret."""
    namespace_options: Callable[[str], pulumi.ResourceOptions]
    """Options making a child wait for its namespace."""


class ClusterLinkCluster(pulumi.ComponentResource):
    """ClusterLink in one cluster, with everything it shares and consumes."""

    target_ports: dict[tuple[str, str], int]

    def __init__(self, name: str, args: ClusterLinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:clusterlink:Cluster", name, None, opts)
        self.urn_type = urn_type("clusterfabric:clusterlink:Cluster", opts.parent if opts else None)
        settings = args.spec.clusterlink
        assert settings is not None
        m = args.manifests

        def under(namespace: str | None) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(args.namespace_options(namespace or ""), pulumi.ResourceOptions(parent=self))

        self.platform = Platform(f"{name}-platform", PlatformArgs(
            peer=args.spec.name, settings=settings, fabric_ca_cert=args.fabric_ca_cert, peer_cert=args.peer_cert,
            peer_key=args.peer_key,
        ), opts=under(settings.namespace))

        peers = dict(args.remote_peers)
        for peer in m.of_kind(Peer):  # peers outside the fabric, declared by hand
            peers[peer.metadata.name] = PeerInfo(peer.metadata.name, gateways=tuple((g.host, g.port) for g in peer.spec.gateways))
        self.peers = [peer_cr(f"{name}-peer-{p}", peers[p], settings.namespace, opts=under(settings.namespace))
                      for p in sorted(peers)]

        self.exports = [export_cr(f"{name}-export-{e.metadata.namespace}-{e.metadata.name}", e,
                                       opts=under(e.metadata.namespace)) for e in m.of_kind(Export)]
        self.target_ports = assign_target_ports(m.of_kind(Import))
        self.imports = [
            import_cr(f"{name}-import-{i.metadata.namespace}-{i.metadata.name}", i,
                           self.target_ports[(i.metadata.namespace, i.metadata.name)], opts=under(i.metadata.namespace))
            for i in m.of_kind(Import)
        ]
        self.policies = [
            access_policy_cr(f"{name}-policy-{p.metadata.namespace or 'cluster'}-{p.metadata.name}", p,
                                 opts=under(p.metadata.namespace))
            for p in m.objects if isinstance(p, (AccessPolicy, PrivilegedAccessPolicy))
        ]
        self.register_outputs({
            "peers": sorted(peers),
            "targetPorts": {f"{ns}/{n}": port for (ns, n), port in sorted(self.target_ports.items())},
        })
