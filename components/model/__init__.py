"""The typed model of a fabric: every manifest kind, validated before any resource exists.

Its most-used names, importable from here; each dataplane's checks stay in their own module
(`clusterlink_checks`, `lattice_checks`); a ClusterLink peer as importers see it in `peers`; Lattice's import
resolution in `lattice_imports`, its desired state in `lattice_fabric`, the AWS rules across stacks in
`lattice_rules`.
"""

from .errors import InputError, Problem
from .fabric import FabricManifests, load_fabric
from .fabric_checks import check_fabric
from .fabric_yaml import FABRIC_FILE, ClusterSpec, FabricSpec
from .graph import Graph, dependencies, run_order
from .kubernetes import Service
from .lattice_imports import ExportKey, LatticeExport
from .load import ClusterManifests, load_cluster_manifests, load_fabric_spec
from .peers import ExportInfo, PeerInfo

__all__ = [
    "FABRIC_FILE",
    "ClusterManifests",
    "ClusterSpec",
    "ExportInfo",
    "ExportKey",
    "FabricManifests",
    "FabricSpec",
    "Graph",
    "InputError",
    "LatticeExport",
    "PeerInfo",
    "Problem",
    "Service",
    "check_fabric",
    "dependencies",
    "load_cluster_manifests",
    "load_fabric",
    "load_fabric_spec",
    "run_order",
]
