"""A whole fabric's checks, offline: each cluster's own (per dataplane), then those across clusters."""

from __future__ import annotations

from . import clusterlink_checks, lattice_checks, lattice_rules
from .access import blocked_sources
from .certificates import settings_warnings
from .clusterlink import Import
from .errors import InputError, Problem
from .fabric import FabricManifests
from .graph import run_order
from .load import ref
from .peers import check_import_sources


def check_fabric(fabric: FabricManifests) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of a whole fabric, offline: every peer described by its manifests."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    catalog = fabric.catalog()
    for spec in fabric.spec.clusters:
        manifests = fabric.manifests[spec.name]
        lattice_problems, lattice_warnings = lattice_checks.check_cluster(spec, manifests)
        problems += clusterlink_checks.check_cluster(spec, manifests) + lattice_problems
        warnings += lattice_warnings
        if spec.dataplane == "clusterlink":
            problems += check_import_sources(spec.name, manifests, catalog)
    problems += clusterlink_checks.check_gateways(fabric.clusterlink_clusters(), fabric.fabric_file)
    warnings += clusterlink_checks.gateway_warnings(fabric.clusterlink_clusters(), fabric.fabric_file)
    warnings += settings_warnings(fabric.spec.certificates, fabric.fabric_file)
    if not problems:
        problems += lattice_rules.problems(fabric.lattice)
        warnings += lattice_rules.warnings(fabric.lattice)
    if not problems:
        try:
            run_order(fabric, fabric.fabric_file)
        except InputError as err:
            problems += err.problems
    if not problems:
        warnings += access_warnings(fabric)
    return problems, warnings


def access_warnings(fabric: FabricManifests) -> list[Problem]:
    peers = {spec.name: fabric.peer_access(spec.name) for spec, _ in fabric.clusterlink_clusters()}
    warnings = []
    for spec, manifests in fabric.clusterlink_clusters():
        for imp in manifests.of_kind(Import):
            for i, reason in blocked_sources(imp, peers[spec.name], peers):
                warnings.append(Problem(manifests.file_of(imp), ref(imp), f"spec.sources[{i}]", reason))
    return warnings
