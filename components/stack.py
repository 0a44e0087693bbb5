"""One cluster's stack assembled: its checks, the stacks it reads, its `Cluster` component and its outputs.

A ClusterLink cluster publishes `clusterlink`: its peer name, gateways, labels,
exports and access policies; and of its certificates, their notAfter dates
(`certificateExpiry`) and the rotation state they are at (`certificateRotation`).
The stack that owns the fabric CA also publishes `fabricCertificates` (a
secret). A Lattice cluster publishes `lattice`: its exports with their target
groups, its service networks with their RAM shares, and the services it
declares for other clusters' routes (components/contract.py writes and parses
each).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import pulumi

from .cluster import Cluster, ClusterArgs, ClusterLinkInputs, LatticeInputs
from .component import unknown
from .clusterlink import trust
from .contract import (CERTIFICATE_EXPIRY_OUTPUT, CERTIFICATES_OUTPUT, CLUSTERLINK_OUTPUT, LATTICE_OUTPUT,
                       PLANNED_PEERS_ENV, ROTATION_OUTPUT, ClusterTarget, clusterlink_manifest_outputs, deploy_first,
                       hosted_services, lattice_exports, lattice_networks, lattice_output, manifest_outputs,
                       planned_lattice_output, render_directory_output)
from .links import PeerStacks
from .model import FabricManifests, PeerInfo, lattice_checks
from .model.access import Policies, PeerAccess, blocked_sources
from .model.clusterlink import Import
from .model.clusterlink_checks import check_cluster
from .model.peers import check_import_sources, read_peers
from .model.rotation import RotationState
from .model.lattice_imports import ExportKey, LatticeExport
from .model.lattice_networks import NetworkSpec
from .model.lattice_rules import problems_of, warnings_of
from .model.load import ref


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise pulumi.RunError(message)


def planned_peers() -> frozenset[str]:
    """The peers to read as planned (see contract.PLANNED_PEERS_ENV); none outside a preview."""
    if not pulumi.runtime.is_dry_run():
        return frozenset()
    return frozenset(p for p in os.environ.get(PLANNED_PEERS_ENV, "").split(",") if p)


def build_stack(fabric: FabricManifests, cluster: str, target: ClusterTarget, project_dir: Path) -> dict[str, Any]:
    """Declare one cluster's stack and return its outputs.

    Everything this stack declares waits for the stacks it reads and for every
    check across them, so a failed check leaves nothing half-applied: no
    resource is registered before all input is known to be good.
    """
    spec = fabric.spec.cluster(cluster)
    manifests = fabric.manifests[cluster]
    lattice_problems, lattice_warnings = lattice_checks.check_cluster(spec, manifests)
    problems = check_cluster(spec, manifests) + lattice_problems
    # What the other clusters' manifests say they share, before what their stacks published (checked later).
    # Computed once here and handed down: each is a pass over the whole fabric.
    build: Any = None
    if not problems and spec.dataplane == "clusterlink":
        catalog = fabric.catalog()  # offline: the manifests
        problems = check_import_sources(cluster, manifests, catalog)
        build = partial(_clusterlink_stack, offline=catalog)
    elif not problems:
        # The fabric's AWS rules, between this stack and the others of its account and Region: at `up` each
        # stack sees only itself, so a name taken twice or a VPC associated twice would fail half-way.
        problems = problems_of(fabric.lattice, cluster)
        lattice_warnings += warnings_of(fabric.lattice, cluster)
        build = _lattice_stack
    _require(not problems, "invalid fabric input:\n" + "\n".join(map(str, problems)))
    for warning in lattice_warnings:
        pulumi.log.warn(str(warning))
    outputs = manifest_outputs(fabric, cluster, render_directory_output(target, project_dir))
    outputs.update(build(fabric, spec, manifests, target))
    return outputs


def _clusterlink_stack(fabric: FabricManifests, spec, manifests, target: ClusterTarget,
                       offline: dict[str, PeerInfo]) -> dict[str, Any]:
    """`offline`: every ClusterLink peer as its manifests describe it (the fabric's catalog)."""
    cluster = spec.name
    outputs: dict[str, Any] = {}
    settings = spec.clusterlink
    assert settings is not None
    fabric_peers = [c.name for c, _ in fabric.clusterlink_clusters()]
    ca_owner = fabric.ca_owner()
    sources = fabric.import_peers(cluster)
    # The CA owner among them, itself included: every ClusterLink stack reads the rotation state the owner records.
    stacks = PeerStacks(sources + [ca_owner])
    local = PeerAccess(cluster, settings.labels, Policies.of(manifests.objects))

    def certificates(recorded: RotationState) -> trust.PeerTrust:
        if ca_owner == cluster:
            return trust.issued(f"{cluster}-certificates", fabric.spec.name, fabric_peers, fabric.spec.certificates,
                                cluster, recorded)
        return trust.read(stacks.output_of(ca_owner, CERTIFICATES_OUTPUT), ca_owner, cluster, recorded,
                          planned=ca_owner in planned)

    planned = planned_peers()

    def declare(published: dict[str, Any], rotation: Any) -> dict[str, Any]:
        peers = read_peers(fabric, cluster, published, planned, offline)
        for note in peers.notes:
            pulumi.log.warn(note)
        _require(not peers.problems, peers.refusal())
        catalog, exporters = peers.catalog, peers.exporters
        for imp in manifests.of_kind(Import):
            for i, reason in blocked_sources(imp, local, exporters):
                pulumi.log.warn(f"{manifests.file_of(imp)}: {ref(imp)}: spec.sources[{i}]: {reason}")
        peer = certificates(RotationState.parse(rotation))
        built = Cluster(cluster, ClusterArgs(
            spec=spec, manifests=manifests, target=target,
            clusterlink=ClusterLinkInputs(remote_peers={p: catalog[p] for p in sources},
                                          fabric_ca_cert=peer.ca_bundle, peer_cert=peer.cert, peer_key=peer.key,
                                          certificate_validity=fabric.spec.certificates),
        ))
        assert built.clusterlink is not None
        return {CERTIFICATES_OUTPUT: peer.bundle, ROTATION_OUTPUT: peer.rotation.output(),
                CERTIFICATE_EXPIRY_OUTPUT: pulumi.Output.all(**(peer.expiry or {}), **built.clusterlink.platform.expiry)}

    declared = stacks.then(CLUSTERLINK_OUTPUT, declare, stacks.output_of(ca_owner, ROTATION_OUTPUT))
    outputs.update(clusterlink_manifest_outputs(spec, manifests))
    certificate_outputs = [ROTATION_OUTPUT, CERTIFICATE_EXPIRY_OUTPUT] + ([CERTIFICATES_OUTPUT] if ca_owner == cluster
                                                                         else [])
    outputs.update({name: declared.apply(lambda d, name=name: d[name]) for name in certificate_outputs})
    return outputs


def _lattice_stack(fabric: FabricManifests, spec, manifests, target: ClusterTarget) -> dict[str, Any]:
    cluster = spec.name
    settings = spec.lattice
    assert settings is not None
    desired = fabric.lattice
    networks = desired.networks.joined_by(cluster)
    sources = {t.export.cluster for s in desired.services_of(cluster) for rule in s.rules for t in rule.targets
               if t.export is not None and t.export.cluster != cluster}
    hosts = {s.host for s in desired.hosted_elsewhere(cluster)}
    stacks = PeerStacks(sources | hosts | {n.owner for n in networks if n.owner not in (None, cluster)})
    planned = sorted(planned_peers() & set(stacks.references))

    def read(stack: str, published: dict[str, Any]) -> Any:
        """What `stack` publishes: planned, as it will once this change is deployed; else as it did at its last
        `up`."""
        if stack in planned:
            return planned_lattice_output(fabric.spec.cluster(stack), desired, published.get(stack), unknown())
        return published.get(stack)

    def declare(published: dict[str, Any]) -> Any:
        exports: dict[ExportKey, LatticeExport] = {}
        network_entries: dict[Any, dict[str, Any]] = {}
        route_services: dict[str, Any] = {}
        if planned:
            pulumi.log.warn(f"{cluster!r} is previewed against what {' and '.join(map(repr, planned))} will publish "
                            "after this change (planned: previewed in the same run), the ARNs and ids of what they "
                            "have not made yet (target groups, service networks and their shares, services) not known "
                            "until they are deployed")
        for stack in sorted(stacks.references):
            data = read(stack, published)
            _require(data is not None, f"stack {stack!r} has published no Lattice outputs, so {cluster!r} cannot "
                     f"use what it shares: {deploy_first(stack)}")
            exports.update((export.key, export) for export in lattice_exports(stack, data))
            network_entries.update(lattice_networks(data))
            route_services.update(hosted_services(data, cluster))
        _require_networks(cluster, networks, desired.networks.accepted_by(cluster), network_entries)
        built = Cluster(cluster, ClusterArgs(
            spec=spec, manifests=manifests, target=target,
            lattice=LatticeInputs(fabric=desired, networks={n.key: network_entries[n.key] for n in networks
                                                            if n.key in network_entries}, published=exports),
        ))
        lattice = built.lattice
        # `apply`, not `from_input` of a dict holding the exports: from_input would walk the resolved list again,
        # an Output per value of every export.
        return pulumi.Output.all(lattice.exports_output(), lattice.networks_output(), lattice.hosted_output()).apply(
            lambda found: lattice_output(cluster, settings.accountId, settings.region, settings.vpcId, found[0],
                                         found[1], found[2], route_services))

    return {LATTICE_OUTPUT: stacks.then(LATTICE_OUTPUT, declare)}


def _require_networks(cluster: str, networks: list[NetworkSpec], accepted: list[NetworkSpec],
                      published: dict[Any, dict[str, Any]]) -> None:
    """Each network this stack joins that another stack creates is published, with its share where this stack
    accepts the invitation to it."""
    for network in networks:
        _require(network.owner in (None, cluster) or network.key in published,
                 f"stack {network.owner!r} owns service network {network.name!r} but does not publish it yet: "
                 f"{deploy_first(network.owner)}")
    for network in accepted:
        _require("share" in published.get(network.key, {}),
                 f"stack {network.owner!r} has not shared service network {network.name!r} yet, so {cluster!r} "
                 f"cannot accept it: {deploy_first(network.owner)}")
