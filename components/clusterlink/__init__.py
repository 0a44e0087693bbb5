"""ClusterLink's components, each usable alone in a Pulumi program (docs/components.md): the Platform of a
cluster, and the Export, Import, Peer and AccessPolicy objects it shares and consumes by."""

from .platform import Platform, PlatformArgs
from .sharing import (
    AccessPolicy, AccessPolicyArgs, Export, ExportArgs, Import, ImportArgs, ImportSource, Peer, PeerArgs,
)

__all__ = ["AccessPolicy", "AccessPolicyArgs", "Export", "ExportArgs", "Import", "ImportArgs", "ImportSource", "Peer",
           "PeerArgs", "Platform", "PlatformArgs"]
