"""ClusterLink's Export and Import as components, for a program that has no fabric.yaml.

Each component validates its arguments with the model `clusterfabric validate` uses
(components.model.clusterlink), so a bad port is refused with the same message, and declares the one CR
it stands for as its child. No `from __future__ import annotations` here: the component provider host
reads these annotations as types to infer the package's schema.
"""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from components.model.clusterlink import API_VERSION, Export as ExportModel, Import as ImportModel, cr_body
from components.model.validation import parse

PACKAGE = "clusterfabric"
MODULE = "clusterlink"


class ExportArgs(TypedDict):
    name: str
    """The Export's name: the Service of this name in `namespace` is what peers reach, unless `host` is given."""
    namespace: str
    """The namespace of the Export (and of its Service)."""
    port: int
    """The port dialed, 1-65535."""
    host: NotRequired[str]
    """What the data plane dials instead of the Service named `name`: a DNS name or an IP address."""


class ImportSource(TypedDict):
    export_name: str
    """The name of the Export on the peer."""
    export_namespace: str
    """The namespace of the Export on the peer."""
    peer: str
    """The peer (cluster) that exports it."""


class ImportArgs(TypedDict):
    name: str
    """The Import's name, also the name of the Service it creates (a DNS-1035 label)."""
    namespace: str
    """The namespace of the Import and its Service."""
    port: int
    """The port of the Service the Import creates, 1-65535."""
    target_port: NotRequired[int]
    """The data plane's listening port; left to ClusterLink when absent."""
    sources: list[ImportSource]
    """Where connections go: one or more peers' Exports."""
    lb_scheme: NotRequired[str]
    """How a connection picks a source: random (the default), round-robin or static."""


class Export(pulumi.ComponentResource):
    """A ClusterLink Export: a Service (or host) of this cluster that peers may import."""

    def __init__(self, name: str, args: ExportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:{MODULE}:Export", name, {}, opts)
        spec = {"port": _number(args["port"])} | ({"host": args["host"]} if "host" in args else {})
        export = _validated(ExportModel, "Export", args, spec, name)
        _cr(name, "Export", args, cr_body(export), self)
        self.register_outputs({})


class Import(pulumi.ComponentResource):
    """A ClusterLink Import: a Service of this cluster whose connections go to peers' Exports."""

    def __init__(self, name: str, args: ImportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:{MODULE}:Import", name, {}, opts)
        spec: dict[str, Any] = {
            "port": _number(args["port"]),
            "sources": [{"exportName": s["export_name"], "exportNamespace": s["export_namespace"], "peer": s["peer"]}
                        for s in args["sources"]],
        }
        if "target_port" in args:
            spec["targetPort"] = _number(args["target_port"])
        spec["lbScheme"] = args.get("lb_scheme", "random")
        imp = _validated(ImportModel, "Import", args, spec, name)
        # lbScheme written explicitly, as the fabric's Imports have it.
        _cr(name, "Import", args, cr_body(imp) | {"lbScheme": imp.spec.lbScheme}, self)
        self.register_outputs({})


def _validated(model: Any, kind: str, args: Any, spec: dict[str, Any], name: str) -> Any:
    """The CR as the model reads it, or InputError naming the component, the CR and the field."""
    data = {"apiVersion": API_VERSION, "kind": kind,
            "metadata": {"name": args["name"], "namespace": args["namespace"]}, "spec": spec}
    return parse(model, data, f"{PACKAGE}:{MODULE}:{kind} {name}", f"{kind}/{args['namespace']}/{args['name']}")


def _number(value: Any) -> Any:
    # Pulumi carries numbers as floats; the model's integer fields are strict (a manifest's 80.0 is refused).
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _cr(name: str, kind: str, args: Any, spec: dict[str, Any], parent: pulumi.Resource) -> None:
    k8s.apiextensions.CustomResource(
        name, api_version=API_VERSION, kind=kind,
        metadata={"name": args["name"], "namespace": args["namespace"]}, spec=spec,
        opts=pulumi.ResourceOptions(parent=parent))
