"""The typed model of a fabric: every manifest kind, validated before any resource exists."""

from .errors import InputError, Problem
from .fabric import ClusterSpec, FabricSpec
from .kubernetes import Service
from .load import ClusterManifests, load_cluster_manifests, load_fabric_spec

__all__ = [
    "ClusterManifests",
    "ClusterSpec",
    "FabricSpec",
    "InputError",
    "Problem",
    "Service",
    "load_cluster_manifests",
    "load_fabric_spec",
]
