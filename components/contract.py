"""What crosses the layers, written and read by the same code: the Pulumi project, the stack config the fabric
layer writes and the program reads, where a cluster's objects go (its `ClusterTarget`), and the typed stack
outputs each dataplane publishes and other stacks and the fabric layer read back (the `clusterlink` output's form
is the model's, components.model.peers: an importer reads its peers there, without the program).

Writers and readers: components/program.py reads the config, clusterfabric/ writes it; components/stack.py writes
the outputs and parses those of the stacks it reads (through components/links.py's StackReferences), the fabric
layer parses a stack's own before changing it (safe deletion). It sits above the model and below everything else;
it imports no pulumi, so the fabric layer reads it without the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .model import ClusterSpec, ExportKey, FabricManifests, LatticeExport
from .model.access import Policies
from .model.lattice_fabric import LatticeFabric, ServiceSpec, TargetGroupSpec
from .model.load import ClusterManifests, ref
from .model.peers import clusterlink_output, peer_info
from .model.removal import imported_exports
from .ports import Import, assign_target_ports

PROJECT = "clusterfabric"
"""The Pulumi project (Pulumi.yaml's name): the namespace of the stack config, part of every URN."""

# --- stack config: `clusterfabric:<key>` -----------------------------------------------------------------------

FABRIC = "fabric"
"""The fabric directory, relative to the project (default: default_fabric_dir)."""
RENDER_DIRECTORY = "renderDirectory"
"""Where to render the manifests, relative to the project (default `rendered/<stack>`); "" applies them to the
cluster of `kubeconfig` instead."""
KUBECONFIG = "kubeconfig"
"""The kubeconfig of the cluster to apply to (an absolute path); absent: the ambient one."""
AWAIT_READINESS = "awaitReadiness"
"""`true` (default) or `false`: whether the cluster's controllers make objects ready (not a local control plane)."""
TARGET_KEYS = (KUBECONFIG, AWAIT_READINESS, RENDER_DIRECTORY)
"""The keys that say where a stack's objects go."""


DEFAULT_FABRIC_FOLDER = "config"
"""The fabric folder of a project whose own directory holds no fabric.yaml (this repository's layout)."""


def default_fabric_dir(directory: Path) -> Path:
    """The fabric of a project (or the current directory) that names none: the directory itself when it holds a
    fabric.yaml (a repository `clusterfabric init` made), else its `config` folder (this repository's layout)."""
    return directory if (directory / "fabric.yaml").is_file() else directory / DEFAULT_FABRIC_FOLDER


def config_key(key: str) -> str:
    """The full name of a stack config key, as the Automation API and the engine spell it."""
    return f"{PROJECT}:{key}"


@dataclass(frozen=True)
class ClusterTarget:
    """Where a cluster's Kubernetes objects go: rendered to files, or applied to an API server."""

    kubeconfig: str | Path | None = None
    """Apply with this kubeconfig (a path); None, when not rendering: the ambient kubeconfig."""
    controllers: bool = True
    """False for an API server with no controllers or nodes (a local control plane): there a Deployment is stored
    and validated but never rolls out, so objects are not awaited, and the fabric layer finalizes the namespaces a
    destroy deletes."""
    render_directory: Path | None = None
    """Write manifests here instead of applying them (the local default, and GitOps output)."""


def target_config(target: ClusterTarget | None) -> dict[str, str]:
    """The stack config (short keys) the fabric layer sets for `target`: an API server, or None to render."""
    if target is None:
        return {}
    return {RENDER_DIRECTORY: "", KUBECONFIG: str(Path(target.kubeconfig or "").resolve()),
            AWAIT_READINESS: str(target.controllers).lower()}


def target_from_config(config: Mapping[str, str]) -> ClusterTarget | None:
    """The API server a stack applies to, from its config (full keys, as the Automation API returns them); None
    when it renders."""
    kubeconfig = config.get(config_key(KUBECONFIG))
    if kubeconfig is None or renders(config):
        return None
    return ClusterTarget(Path(kubeconfig), controllers=config.get(config_key(AWAIT_READINESS)) != "false")


def renders(config: Mapping[str, str]) -> bool:
    """Whether a stack with this config (full keys) renders its manifests rather than applying them."""
    return config.get(config_key(RENDER_DIRECTORY)) != ""


PLANNED_PEERS_ENV = "CLUSTERFABRIC_PLANNED_PEERS"
"""Set by a fabric preview in the environment of one stack's preview only: the peers previewed before it in the
same run (comma separated). What such a peer publishes after this change is what its manifests say now, so the
stack is checked against those instead of the outputs its last `up` published: a change that adds an export and
its import previews cleanly before either is deployed. The ARNs and ids of what a Lattice peer has not made yet
(target groups, service networks and their RAM shares, services it declares for other clusters' routes) are
unknown until it is deployed: the stack previews with them unknown (`planned_lattice_output`). Ignored outside a
preview."""

# --- stack outputs -------------------------------------------------------------------------------------------

CLUSTERLINK_OUTPUT = "clusterlink"
"""A ClusterLink cluster's peer name, namespace, gateways, labels, exports and access policies: the model writes and
reads it (components.model.peers), where an importer reads its peers, in the program and the fabric layer alike."""
CERTIFICATES_OUTPUT = "fabricCertificates"
"""The fabric CA and every peer's certificate and key (a secret), published by the CA's owner."""
CERTIFICATE_EXPIRY_OUTPUT = "certificateExpiry"
"""Each certificate a ClusterLink stack holds, by name (components.model.certificates), and its notAfter (ISO 8601,
UTC): not secret, so the fabric layer warns before one expires."""
ROTATION_OUTPUT = "certificateRotation"
"""The rotation state (components.model.rotation) of a ClusterLink stack's certificates: the CA owner's record, read
back at its next run; elsewhere, the state the stack applied."""
RENDER_DIRECTORY_OUTPUT = "renderDirectory"
"""Where the stack rendered its manifests (None: applied to a cluster), for the fabric layer's drift check."""
LATTICE_OUTPUT = "lattice"
"""A Lattice cluster's account, Region, VPC, exports (with their target groups), service networks (with their RAM
shares), the services it declares for other clusters' routes (`hostedServices`), and where the services of its
routes that another cluster declares are (`routeServices`)."""


def render_directory_output(target: ClusterTarget, project_dir: Path) -> str | None:
    """The `renderDirectory` output: relative to the project when inside it, so the state names no machine's path
    (None: applied to a cluster)."""
    directory = target.render_directory
    if directory is None:
        return None
    return directory.relative_to(project_dir).as_posix() if directory.is_relative_to(project_dir) else str(directory)


def render_directory_of(outputs: Mapping[str, Any], project_dir: Path) -> Path | None:
    """Where a stack renders on this machine, from its outputs (releases before this one published it absolute,
    which the join keeps as it is)."""
    published = outputs.get(RENDER_DIRECTORY_OUTPUT)
    return project_dir / published if published else None


def lattice_exports_entries(groups: list[tuple[TargetGroupSpec, str]]) -> list[dict[str, Any]]:
    """The `exports` of a `lattice` output: each exported port once, with (consuming service, name, ARN) of each
    of its target groups. `groups`: the stack's export target groups with their ARNs. An export nobody consumes
    yet has a target group whose service is None, which the engine drops from the output (`lattice_exports`)."""
    exports: dict[ExportKey, dict[str, Any]] = {}
    for spec, arn in groups:
        export = spec.export
        assert export is not None, "the target groups of exports only"
        entry = exports.setdefault(export, {"name": export.name, "namespace": export.namespace, "port": export.port,
                                            "routeType": export.route_type, "targetGroups": []})
        entry["targetGroups"].append({"service": spec.consumer, "name": spec.name, "arn": arn})
    return list(exports.values())


def network_entry(network_id: Any, arn: Any, share: Any = None) -> dict[str, Any]:
    """A network of a `lattice` output's `serviceNetworks`: {id, arn, share (its RAM share's ARN, when shared)}."""
    return {"id": network_id, "arn": arn, **({"share": share} if share is not None else {})}


def hosted_entry(service: ServiceSpec, arn: Any, dns_name: Any) -> dict[str, Any]:
    """A service of a `lattice` output's `hostedServices`: declared for another cluster's route."""
    return {"cluster": service.cluster, "route": ref(service.route), "name": service.name, "arn": arn,
            "dnsName": dns_name}


IMPORTED_EXPORTS_OUTPUT = "importedExports"
"""Exporting stack -> the exports of it this stack imports (components.model.removal.imported_exports): what the
fabric layer checks a removal against, as deployed."""
IMPORT_TARGET_PORTS_OUTPUT = "importTargetPorts"
"""A ClusterLink stack's Imports: `namespace/name` -> the target port ClusterLink's data plane listens on."""


def manifest_outputs(fabric: FabricManifests, cluster: str, render_directory: str | None) -> dict[str, Any]:
    """The outputs of every stack that its manifests alone decide (`render_directory`: its
    `render_directory_output`)."""
    manifests = fabric.manifests[cluster]
    return {"cluster": cluster, "dataplane": fabric.spec.cluster(cluster).dataplane,
            RENDER_DIRECTORY_OUTPUT: render_directory,
            "services": sorted(f"{s.namespace}/{s.name}" for s in manifests.services),
            IMPORTED_EXPORTS_OUTPUT: imported_exports(fabric, cluster)}


def clusterlink_manifest_outputs(spec: ClusterSpec, manifests: ClusterManifests) -> dict[str, Any]:
    """The outputs of a ClusterLink stack that its manifests alone decide: its `clusterlink` output (what its peers
    read) and its Imports' target ports. The offline plan answers a peer's StackReference with these, without
    evaluating the peer's program."""
    settings = spec.clusterlink
    assert settings is not None, "a ClusterLink cluster's"
    ports = assign_target_ports(manifests.of_kind(Import))
    return {CLUSTERLINK_OUTPUT: clusterlink_output(peer_info(spec, manifests), Policies.of(manifests.objects),
                                                   settings.namespace),
            IMPORT_TARGET_PORTS_OUTPUT: {f"{ns}/{name}": port for (ns, name), port in sorted(ports.items())}}


def certificates_output(ca: Any, peers: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """The `fabricCertificates` output: the CA bundle every peer trusts and each peer's (certificate, key)."""
    return {"ca": ca, "peers": {p: {"cert": cert, "key": key} for p, (cert, key) in peers.items()}}


def lattice_output(cluster: str, account_id: str, region: str, vpc_id: str, exports: list[dict[str, Any]],
                   service_networks: dict[str, Any], hosted: list[dict[str, Any]] | None = None,
                   route_services: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `lattice` output. `exports`: `lattice_exports_entries` of its target groups; `service_networks`:
    network -> `network_entry`, the ones it owns; `hosted`: the `hosted_entry` of each service it declares for
    other clusters' routes; `route_services`: route -> {cluster, accountId, name, dnsName}, its routes' services
    another cluster declares. The last two only when there are some."""
    output = {"cluster": cluster, "accountId": account_id, "region": region, "vpcId": vpc_id, "exports": exports,
              "serviceNetworks": service_networks}
    if hosted:
        output["hostedServices"] = hosted
    if route_services:
        output["routeServices"] = route_services
    return output


def deploy_first(stack: str) -> str:
    """What to do when a Lattice stack reads what `stack` has not published yet."""
    return (f"run `pulumi up` on {stack!r} first, or, if this change adds it there too, preview the whole fabric "
            f"(`clusterfabric preview`), which reads {stack!r} as planned")


def planned_lattice_output(spec: ClusterSpec, fabric: LatticeFabric, published: Mapping[str, Any] | None,
                           unknown: Any) -> dict[str, Any]:
    """The `lattice` output a stack will publish once this change is deployed, as the fabric's desired state has
    it: its exports' target groups, the service networks it creates (with their RAM shares) and the services it
    declares for other clusters' routes, with the ARNs and ids it `published` for those it has made already (a
    target group's name changes with whatever would replace it), the others `unknown`."""
    settings = spec.lattice
    assert settings is not None, "a Lattice cluster's"
    published = published or {}
    made = {g["name"]: g["arn"] for e in published.get("exports", []) for g in e.get("targetGroups", [])}
    groups = [(tg, made.get(tg.name, unknown)) for tg in fabric.target_groups_of(spec.name).values()
              if tg.export is not None]
    return lattice_output(spec.name, settings.accountId, settings.region, settings.vpcId,
                          lattice_exports_entries(groups),
                          _planned_networks(spec.name, fabric, published.get("serviceNetworks", {}), unknown),
                          _planned_hosted(spec.name, fabric, published.get("hostedServices", []), unknown))


def _planned_networks(cluster: str, fabric: LatticeFabric, made: Mapping[str, Any], unknown: Any) -> dict[str, Any]:
    """The networks `cluster` creates, as `planned_lattice_output`: a share only where the fabric shares it (it may
    share a network it made before this change, which then has its id but no share yet)."""
    planned = {}
    for network in fabric.networks.created_by(cluster):
        entry = made.get(network.name, {})
        shared = network.key in fabric.networks.shares
        planned[network.name] = network_entry(entry.get("id", unknown), entry.get("arn", unknown),
                                              entry.get("share", unknown) if shared else None)
    return planned


def _planned_hosted(cluster: str, fabric: LatticeFabric, made: list[Mapping[str, Any]],
                    unknown: Any) -> list[dict[str, Any]]:
    """The services `cluster` declares for other clusters' routes, as `planned_lattice_output` (a service is the
    one it made while its route and name are the same)."""
    by_route = {(e["cluster"], e["route"], e["name"]): e for e in made}
    planned = []
    for service in (s for s in fabric.services_of(cluster) if s.cluster != s.host):
        entry = by_route.get((service.cluster, ref(service.route), service.name), {})
        planned.append(hosted_entry(service, entry.get("arn", unknown), entry.get("dnsName", unknown)))
    return planned


def lattice_exports(stack: str, data: Mapping[str, Any] | None) -> list[LatticeExport]:
    """The exports of a `lattice` output, each with its target groups (none when the stack has not published).
    A target group without a service serves no one yet: the engine drops a None from an output's dictionaries."""
    if not data:
        return []
    return [LatticeExport(stack, data["vpcId"], e["name"], e["namespace"], int(e["port"]), e["routeType"],
                          (data["accountId"], data["region"]),
                          tuple((g.get("service"), g["arn"]) for g in e.get("targetGroups", [])))
            for e in data.get("exports", [])]


def lattice_networks(data: Mapping[str, Any]) -> dict[tuple[tuple[str, str], str], dict[str, Any]]:
    """(account and Region, network) -> {id, arn, share?}, for the networks a `lattice` output publishes."""
    scope = (data["accountId"], data["region"])
    return {(scope, network): entry for network, entry in data.get("serviceNetworks", {}).items()}


def hosted_services(data: Mapping[str, Any], cluster: str) -> dict[str, dict[str, Any]]:
    """Route -> {cluster, accountId, name, dnsName}: the services a `lattice` output's stack declares for the routes
    of `cluster`."""
    return {entry["route"]: {"cluster": data["cluster"], "accountId": data["accountId"], "name": entry["name"],
                             "dnsName": entry.get("dnsName")}
            for entry in data.get("hostedServices", []) if entry["cluster"] == cluster}
