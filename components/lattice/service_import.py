"""ServiceImport: which exported ports a ServiceImport reaches. It declares no AWS resource: a route's rules forward
to what it resolves to (the exports' target groups for that route's Lattice service).

Used alone, it resolves over the exports it is given (as their stacks publish them) the way the controller and
`clusterfabric validate` do (components.model.lattice_imports.candidates): same name and namespace, the route
type of the route that uses it, the importer's account and Region, and the cluster and VPC filters; one that
matches nothing is refused with validate's message. In the fabric the Lattice cluster gives it what the fabric
resolved (`ServiceImport.planned`). No `from __future__ import annotations`: kept readable by the component
provider host.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from ..component import Component
from ..model.errors import InputError, Problem
from ..model.lattice import API_VERSION, CLUSTER_NAME, EXPORT_NAME, VPC, ServiceImport as ServiceImportModel
from ..model.lattice_imports import LatticeExport, candidates, no_match_message
from ..model.validation import parse


class ExportTargetGroupArgs(TypedDict):
    consumer: NotRequired[str]
    """The Lattice service it serves (absent: one nobody uses yet)."""
    arn: pulumi.Input[str]
    """Its ARN."""


class PublishedExportArgs(TypedDict):
    cluster: str
    """The exporting cluster."""
    name: str
    """The export's name."""
    namespace: str
    """The export's namespace."""
    port: int
    """The exported port, 1-65535."""
    route_type: str
    """HTTP, GRPC or TLS."""
    account_id: str
    """The account of its target groups (12 digits)."""
    region: str
    """Their Region."""
    vpc_id: str
    """The exporting cluster's VPC."""
    target_groups: NotRequired[list[ExportTargetGroupArgs]]
    """Its target groups (a ServiceExport's `target_groups`)."""


class ServiceImportArgs(TypedDict):
    name: str
    """The ServiceImport's name: the export's too, unless `export_name`."""
    namespace: str
    """Its namespace, the export's too."""
    route_type: str
    """The route type of the route using it: HTTP (HTTPRoute), GRPC (GRPCRoute) or TLS (TLSRoute)."""
    account_id: str
    """The importer's account: only exports there are reached (12 digits)."""
    region: str
    """The importer's Region: a Lattice service forwards to target groups of its Region only."""
    exports: list[PublishedExportArgs]
    """The exports it may resolve to."""
    export_name: NotRequired[str]
    """The export's name when it is not `name` (a DNS-1035 label)."""
    cluster: NotRequired[str]
    """Only the export of this cluster."""
    vpc_id: NotRequired[str]
    """Only the export of a cluster in this VPC."""
    consumer: NotRequired[str]
    """The Lattice service that forwards to it: `exports` then carry the target group made for it."""


class ResolvedExport(TypedDict):
    cluster: str
    """The exporting cluster."""
    namespace: str
    """The export's namespace."""
    name: str
    """The export's name."""
    port: int
    """The exported port."""
    route_type: str
    """Its route type."""
    target_group: NotRequired[str]
    """The ARN of its target group for `consumer`, when given."""


ServiceImportPlan = list[dict[str, Any]]
"""The exports a ServiceImport reaches, each a `resolved_entry`: resolved alone (`resolve`) or by the fabric."""


class ServiceImport(Component[ServiceImportPlan]):
    """A ServiceImport's resolution: `exports`, the exported ports it reaches, by cluster."""

    MODULE = "lattice"
    exports: pulumi.Output[list[ResolvedExport]]

    def __init__(self, name: str, args: ServiceImportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self._make(name, resolve(name, args), opts)  # refused before anything is registered

    def _declare(self, name: str, found: ServiceImportPlan) -> None:
        self.exports = pulumi.Output.from_input(found)
        self.register_outputs({"exports": found})


def resolved_entry(export: LatticeExport, target_group: Any = None) -> dict[str, Any]:
    entry = {"cluster": export.cluster, "namespace": export.namespace, "name": export.name, "port": export.port,
             "route_type": export.route_type}
    return {**entry, "target_group": target_group} if target_group is not None else entry


def resolve(name: str, args: ServiceImportArgs) -> ServiceImportPlan:
    """The exports a ServiceImport used alone reaches, or InputError with validate's message."""
    where, obj = f"{ServiceImport.TOKEN} {name}", f"ServiceImport/{args['namespace']}/{args['name']}"
    filters = {EXPORT_NAME: args.get("export_name"), CLUSTER_NAME: args.get("cluster"), VPC: args.get("vpc_id")}
    imp = parse(ServiceImportModel, {"apiVersion": API_VERSION, "kind": "ServiceImport", "metadata": {
        "name": args["name"], "namespace": args["namespace"],
        "annotations": {k: v for k, v in filters.items() if v is not None}}}, where, obj)
    given = {}
    for e in args["exports"]:
        export = LatticeExport(e["cluster"], e["vpc_id"], e["name"], e["namespace"], int(e["port"]), e["route_type"],
                               (e["account_id"], e["region"]))
        given[export] = {g.get("consumer"): g["arn"] for g in e.get("target_groups", [])}
    scope = (args["account_id"], args["region"])
    # Alone, no stack of another account declares the route's service there: the importer's account only.
    matches = [e for e in candidates(imp, args["namespace"], args["route_type"], given, scope) if e.scope == scope]
    if not matches:
        raise InputError([Problem(where, obj, "metadata.name", no_match_message(
            imp, args["namespace"], args["route_type"], list(given), scope))])
    consumer = args.get("consumer")
    return [resolved_entry(e, given[e].get(consumer) if consumer else None) for e in matches]
