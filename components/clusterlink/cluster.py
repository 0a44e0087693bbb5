"""The ClusterLink side of one cluster: platform, remote Peers, Exports, Imports, policies."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import pulumi
from pydantic import BaseModel, ConfigDict

from ..model import ClusterManifests, ClusterSpec, PeerInfo
from ..model.certificates import CertificateSettings
from ..model import clusterlink as cl
from ..model.clusterlink import API_VERSION
from ..moved import FormerWrapper, former_child, urn_type
from ..ports import assign_target_ports
from .platform import Platform, PlatformPlan
from .sharing import AccessPolicy, CRPlan, Export, Import, Peer


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
    certificate_validity: CertificateSettings = CertificateSettings()
    """How long the cluster's own certificates are issued for."""


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

        self.platform = Platform.planned(f"{name}-platform", PlatformPlan(args.spec.name, settings, {
            "fabric_ca_cert": args.fabric_ca_cert, "peer_cert": args.peer_cert, "peer_key": args.peer_key,
        }, args.certificate_validity), under(settings.namespace))

        peers = {p: info.gateways for p, info in args.remote_peers.items()}
        for peer in m.of_kind(cl.Peer):  # peers outside the fabric, declared by hand
            peers[peer.metadata.name] = peer.spec.gateways
        self.peers = [self._declare(Peer, f"{name}-peer-{p}", _peer(p, peers[p], settings.namespace, f"{name}-peer-{p}"),
                                    under(settings.namespace)) for p in sorted(peers)]
        self.exports = [self._declare(Export, f"{name}-export-{e.metadata.namespace}-{e.metadata.name}", e,
                                      under(e.metadata.namespace)) for e in m.of_kind(cl.Export)]
        self.target_ports = assign_target_ports(m.of_kind(cl.Import))
        self.imports = [
            self._declare(Import, f"{name}-import-{i.metadata.namespace}-{i.metadata.name}",
                          _with_target_port(i, self.target_ports[(i.metadata.namespace, i.metadata.name)]),
                          under(i.metadata.namespace))
            for i in m.of_kind(cl.Import)
        ]
        self.policies = [
            self._declare(AccessPolicy, f"{name}-policy-{p.metadata.namespace or 'cluster'}-{p.metadata.name}", p,
                          under(p.metadata.namespace))
            for p in m.objects if isinstance(p, (cl.AccessPolicy, cl.PrivilegedAccessPolicy))
        ]
        self.register_outputs({
            "peers": sorted(peers),
            "targetPorts": {f"{ns}/{n}": port for (ns, n), port in sorted(self.target_ports.items())},
        })

    def _declare(self, component: Any, name: str, obj: Any, opts: pulumi.ResourceOptions) -> Any:
        """The component of `obj`, named `name`; its CR keeps the URNs it had: in release 0.1 `<name>-cr` inside
        this component (of the same type and name), in 0.2 `<name>` directly under the cluster."""
        cr_type = f"kubernetes:{API_VERSION}:{obj.kind}"
        return component.planned(name, CRPlan(obj, (
            FormerWrapper(component.TOKEN, name, self).alias(cr_type, f"{name}-cr"),
            former_child(self, cr_type, name),
        )), opts)


def _peer(name: str, gateways: Sequence[cl.GatewayEndpoint], namespace: str, component: str) -> cl.Peer:
    """The Peer CR of a peer, at the gateways its stack publishes (or a Peer manifest gives)."""
    return cl.peer_cr(name, namespace, gateways, f"{Peer.TOKEN} {component}")


def _with_target_port(imp: cl.Import, port: int) -> cl.Import:
    """`imp` with the targetPort the program chose for it (the one it gave, or one picked in the range)."""
    return imp.model_copy(update={"spec": imp.spec.model_copy(update={"targetPort": port})})
