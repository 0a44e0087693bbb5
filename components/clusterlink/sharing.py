"""ClusterLink's sharing objects as components any Pulumi program can use: Export, Import, Peer, AccessPolicy.

Each component stands for one ClusterLink CR (`clusterlink.net/v1alpha1`) and declares it as its one child,
named as the component. Its arguments are validated by the model `clusterfabric validate` uses
(components.model.clusterlink), so a bad port is refused with the same message, naming the component, the
object and the field (InputError). The fabric's cluster (cluster.py) declares its objects with these same
classes, from the models of its manifests (`planned`, components/component.py), so a CR is built in one place.

No `from __future__ import annotations` here: the component provider host (components/plugin) reads these
annotations as types to infer the package's schema; each `*Args` field's docstring is its documentation there.
"""

from dataclasses import dataclass
from typing import Any, NotRequired, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel

from ..component import Component
from ..model.clusterlink import (
    API_VERSION, DEFAULT_NAMESPACE, AccessPolicy as AccessPolicyModel, Export as ExportModel, Import as ImportModel,
    Peer as PeerModel, PrivilegedAccessPolicy as PrivilegedAccessPolicyModel, cr_body,
)
from ..model.validation import parse, whole_numbers


class ExportArgs(TypedDict):
    name: str
    """The Export's name, by which peers import it (a DNS-1123 subdomain, at most 253 characters). Unless `host` is
    given, the Service of this name in `namespace` is what peers reach."""
    namespace: str
    """The namespace of the Export and of its Service (a DNS-1123 label, at most 63 characters)."""
    port: int
    """The port dialed, 1-65535."""
    host: NotRequired[str]
    """What the data plane dials instead of the Service named `name`: a DNS name (lower case) or an IP address."""
    labels: NotRequired[dict[str, str]]
    """Labels of the Export CR."""
    annotations: NotRequired[dict[str, str]]
    """Annotations of the Export CR."""


class ImportSource(TypedDict):
    export_name: str
    """The name of the Export on the peer (a DNS-1123 subdomain)."""
    export_namespace: str
    """The namespace of the Export on the peer (a DNS-1123 label)."""
    peer: str
    """The peer (cluster) that exports it: the name of a Peer (a DNS-1123 subdomain)."""


class ImportArgs(TypedDict):
    name: str
    """The Import's name, also the name of the Service ClusterLink creates for it (a DNS-1035 label: at most 63
    characters of a-z, 0-9 and '-', starting with a letter)."""
    namespace: str
    """The namespace of the Import and of its Service (a DNS-1123 label)."""
    port: int
    """The port of the Service the Import creates, 1-65535."""
    target_port: NotRequired[int]
    """The data plane's listening port for this Import, 1024-49151; left to ClusterLink when absent."""
    sources: list[ImportSource]
    """Where connections go: one or more peers' Exports, no two the same."""
    lb_scheme: NotRequired[str]
    """How a connection picks a source: `random` (the default), `round-robin` or `static` (the first source that
    answers)."""
    labels: NotRequired[dict[str, str]]
    """Labels of the Import CR; `import.clusterlink.net/merge: "true"` merges it into an existing Service of its
    name."""
    annotations: NotRequired[dict[str, str]]
    """Annotations of the Import CR."""


class PeerGateway(TypedDict):
    host: str
    """A DNS name (lower case) or an IP address at which the peer's ingress is reachable."""
    port: int
    """Its port, 1-65535."""


class PeerArgs(TypedDict):
    name: str
    """The peer's name, as its certificate names it (a DNS-1123 subdomain); Imports name it as their source."""
    namespace: NotRequired[str]
    """ClusterLink's namespace in this cluster, where its control plane reads Peers; default clusterlink-system."""
    gateways: list[PeerGateway]
    """Where the peer is reached: one or more addresses."""
    labels: NotRequired[dict[str, str]]
    """Labels of the Peer CR."""
    annotations: NotRequired[dict[str, str]]
    """Annotations of the Peer CR."""


class WorkloadSelectorRequirement(TypedDict):
    key: str
    """The attribute, such as `peer.clusterlink.net/name` or `export.clusterlink.net/name`."""
    operator: str
    """`In`, `NotIn` (with values), `Exists` or `DoesNotExist` (without)."""
    values: NotRequired[list[str]]
    """The values `In` and `NotIn` compare with."""


class WorkloadSelector(TypedDict):
    match_labels: NotRequired[dict[str, str]]
    """Attributes the workload must have with these values; empty (with no expressions): every workload."""
    match_expressions: NotRequired[list[WorkloadSelectorRequirement]]
    """Requirements the workload's attributes must all meet."""


class AccessPolicyWorkloads(TypedDict):
    workload_selector: WorkloadSelector
    """The workloads meant, by their attributes (ClusterLink does not support `workloadSets` yet)."""


class AccessPolicyArgs(TypedDict):
    name: str
    """The policy's name (a DNS-1123 subdomain)."""
    namespace: NotRequired[str]
    """The namespace whose Imports (egress) and Exports (ingress) the policy applies to (a DNS-1123 label); default
    `default`. A privileged policy has none."""
    privileged: NotRequired[bool]
    """True: a cluster-wide PrivilegedAccessPolicy, evaluated before every AccessPolicy (no namespace). Default
    false: a namespaced AccessPolicy."""
    action: str
    """`allow` or `deny`."""
    from_: list[AccessPolicyWorkloads]
    """The clients the policy applies to (`from` in the CR), at least one."""
    to: list[AccessPolicyWorkloads]
    """The services the policy applies to, at least one."""
    labels: NotRequired[dict[str, str]]
    """Labels of the CR."""
    annotations: NotRequired[dict[str, str]]
    """Annotations of the CR."""


@dataclass(frozen=True)
class CRPlan:
    """The CR a ClusterLink component declares, as its model reads it, and the URNs (or Aliases) it had in
    earlier releases (the fabric's: components/moved.py)."""

    cr: BaseModel
    aliases: tuple[Any, ...] = ()


class _ClusterLinkObject(Component[CRPlan]):
    """A component standing for one ClusterLink CR, declared as its one child of the same name."""

    MODULE = "clusterlink"
    name: str
    """The CR's name."""
    namespace: Optional[str]
    """The CR's namespace (none: a cluster-wide PrivilegedAccessPolicy)."""

    def __init__(self, name: str, args: Any, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        self._make(name, CRPlan(self.validate(name, args)), opts)  # refused before anything is registered

    @classmethod
    def validate(cls, name: str, args: Any) -> BaseModel:
        """The CR `args` describe, as the model reads it; InputError naming the component `name`, the CR and the
        field when refused."""
        raise NotImplementedError

    @classmethod
    def _parse(cls, model: type[BaseModel], name: str, args: Any, spec: dict[str, Any],
               namespace: Optional[str]) -> Any:
        """The CR (of `model`'s kind) as the model reads it, or InputError naming the component, the CR and the
        field, as `clusterfabric validate` names a file, an object and a field."""
        kind = model.__name__
        metadata = {"name": args.get("name"), **({"namespace": namespace} if namespace is not None else {})}
        metadata |= {k: args[k] for k in ("labels", "annotations") if k in args}
        data = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": whole_numbers(spec)}
        where = "/".join(str(part) for part in (kind, namespace, args.get("name")) if part is not None)
        return parse(model, data, f"{cls.TOKEN} {name}", where)

    def _spec(self, obj: Any) -> dict[str, Any]:
        return cr_body(obj)

    def _outputs(self, obj: Any) -> dict[str, Any]:
        self.name, self.namespace = obj.metadata.name, obj.metadata.namespace
        return {"name": self.name, "namespace": self.namespace}

    def _declare(self, name: str, plan: CRPlan) -> None:
        obj = plan.cr
        self._cr = k8s.apiextensions.CustomResource(
            name, api_version=API_VERSION, kind=obj.kind, metadata=_metadata(obj, cluster_scoped=obj.kind ==
                                                                                  "PrivilegedAccessPolicy"),
            spec=self._spec(obj), opts=pulumi.ResourceOptions(parent=self, aliases=list(plan.aliases) or None))
        self.register_outputs(self._outputs(obj))


def _metadata(obj: Any, cluster_scoped: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": obj.metadata.name}
    if not cluster_scoped:
        meta["namespace"] = obj.metadata.namespace
    if obj.metadata.labels:
        meta["labels"] = dict(obj.metadata.labels)
    if obj.metadata.annotations:
        meta["annotations"] = dict(obj.metadata.annotations)
    return meta


def _given(args: Any, fields: dict[str, str]) -> dict[str, Any]:
    """The CR fields of the args given: `fields` maps each arg to its CR field name."""
    return {field: args[arg] for arg, field in fields.items() if arg in args}


class Export(_ClusterLinkObject):
    """A ClusterLink Export: a Service (or host) of this cluster that peers may import, where a policy allows."""

    def __init__(self, name: str, args: ExportArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)

    @classmethod
    def validate(cls, name: str, args: Any) -> BaseModel:
        spec = _given(args, {"port": "port", "host": "host"})
        return cls._parse(ExportModel, name, args, spec, args.get("namespace"))


class Import(_ClusterLinkObject):
    """A ClusterLink Import: a Service of this cluster whose connections go to peers' Exports."""

    service: str
    """The Service ClusterLink creates for the Import, as a client dials it: `<name>.<namespace>.svc.cluster.local`."""
    target_port: Optional[int]
    """The data plane's listening port for this Import, when chosen here (absent: ClusterLink picks one)."""

    def __init__(self, name: str, args: ImportArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)

    @classmethod
    def validate(cls, name: str, args: Any) -> BaseModel:
        spec = _given(args, {"port": "port", "target_port": "targetPort", "lb_scheme": "lbScheme"})
        if "sources" in args:
            spec["sources"] = [_given(s, {"export_name": "exportName", "export_namespace": "exportNamespace",
                                          "peer": "peer"}) for s in args["sources"]]
        return cls._parse(ImportModel, name, args, spec, args.get("namespace"))

    def _spec(self, imp: Any) -> dict[str, Any]:
        return cr_body(imp) | {"lbScheme": imp.spec.lbScheme}  # written explicitly, default included

    def _outputs(self, imp: Any) -> dict[str, Any]:
        outputs = super()._outputs(imp)
        self.service = f"{imp.metadata.name}.{imp.metadata.namespace}.svc.cluster.local"
        self.target_port = imp.spec.targetPort
        return outputs | {"service": self.service, "targetPort": self.target_port}


class Peer(_ClusterLinkObject):
    """A ClusterLink Peer: another cluster's ClusterLink, which this one connects to for the Imports naming it."""

    def __init__(self, name: str, args: PeerArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)

    @classmethod
    def validate(cls, name: str, args: Any) -> BaseModel:
        spec = {"gateways": [_given(g, {"host": "host", "port": "port"}) for g in args["gateways"]]} \
            if "gateways" in args else {}
        return cls._parse(PeerModel, name, args, spec, args.get("namespace", DEFAULT_NAMESPACE))


class AccessPolicy(_ClusterLinkObject):
    """A ClusterLink AccessPolicy: allows or denies connections between workloads, in its namespace; or, with
    `privileged`, a cluster-wide PrivilegedAccessPolicy, evaluated before every AccessPolicy."""

    def __init__(self, name: str, args: AccessPolicyArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(name, args, opts)

    @classmethod
    def validate(cls, name: str, args: Any) -> BaseModel:
        def workloads(items: Any) -> Any:
            if not isinstance(items, list):
                return items  # the model says what is wrong with it
            return [{"workloadSelector": _selector(w["workload_selector"])} if "workload_selector" in w else {}
                    for w in items]

        spec = _given(args, {"action": "action"})
        spec |= {field: workloads(args[arg]) for arg, field in (("from_", "from"), ("to", "to")) if arg in args}
        if args.get("privileged"):
            return cls._parse(PrivilegedAccessPolicyModel, name, args, spec, args.get("namespace"))
        return cls._parse(AccessPolicyModel, name, args, spec, args.get("namespace", "default"))


def _selector(selector: Any) -> Any:
    body = _given(selector, {"match_labels": "matchLabels"})
    if "match_expressions" in selector:
        body["matchExpressions"] = [_given(e, {"key": "key", "operator": "operator", "values": "values"})
                                    for e in selector["match_expressions"]]
    return body
