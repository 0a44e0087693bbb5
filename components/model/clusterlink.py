"""ClusterLink: the cluster settings in fabric.yaml and the CRs of `clusterlink.net/v1alpha1`.

The models mirror the upstream CRDs (clusterfabric/crds/clusterlink) and accept every
example of the ClusterLink documentation verbatim. Where the CRD is loose and
ClusterLink would fail later at run time, the model says so now: ports are
1-65535 (uint16 in the Go types), Import names are at most 63 characters (they
become Service names), lbScheme is one of the three schemes, an access policy
selector names exactly one of workloadSets and workloadSelector.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Sequence

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator,
                      model_validator)

from .kubernetes import DNS1035Label, DNSLabel, DNSSubdomain, Hostname, Labels, ObjectMeta, Port, Strict
from .validation import parse

API_VERSION = "clusterlink.net/v1alpha1"
DEFAULT_NAMESPACE = "clusterlink-system"
DEFAULT_IMAGE_TAG = "v0.4.1"
MERGE_LABEL = "import.clusterlink.net/merge"
TARGET_PORT_RANGE = (1024, 49151)
"""Where the program picks an Import's targetPort: the registered-ports range, clear of NodePorts' default 30000-32767 only by luck; see components.ports."""


def target_port_problem(port: int) -> str | None:
    """Why `port` cannot be an Import's targetPort, or None: the one rule `validate` and the policy pack apply."""
    low, high = TARGET_PORT_RANGE
    if not low <= port <= high:
        return (f"targetPort {port}, outside {low}-{high} where data plane ports are chosen; remove targetPort to "
                "have one chosen, or pick one in the range")
    return None


# An image registry and repository prefix, as the distribution reference grammar has them: a host (with an optional
# port) and path components of lower-case letters and digits joined by '.', '_', '__' or dashes.
_REGISTRY = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?"
                       r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*")


def _registry(value: str) -> str:
    # It becomes part of every image reference (`<registry>/cl-controlplane:<tag>`): a space or a shell character
    # would only fail at the image pull, on every node. "" is ClusterLink's own choice for bare image names
    # (`--container-registry ""`: images from the node's default registry or already loaded).
    if value and (len(value) > 255 or not _REGISTRY.fullmatch(value)):
        raise ValueError(f"{value!r} is not an image registry and repository: a host (optionally :port) and "
                         "path parts of a-z, 0-9, '.', '_' and '-', such as ghcr.io/clusterlink-net")
    return value

LBScheme = Literal["random", "round-robin", "static"]


# --- fabric.yaml: `clusterlink:` settings of a cluster ------------------------


NODE_PORT_RANGE = (30000, 32767)
DEFAULT_INGRESS_PORT = 443
"""ClusterLink's `DefaultExternalPort`: the ingress Service's port unless told otherwise."""


class IngressSettings(Strict):
    """The `clusterlink` Service through which peers reach this cluster's data plane (4443), as
    `clusterlink deploy peer --ingress TYPE --ingress-port PORT` makes it."""

    type: Literal["LoadBalancer", "NodePort", "ClusterIP"] = "LoadBalancer"
    """LoadBalancer (the default), NodePort, or ClusterIP (reached through something else you run)."""
    port: Port | None = None
    """LoadBalancer and ClusterIP: the Service's port, default 443. NodePort: the node port every node opens,
    30000-32767, pinned in the Service (the Service's own port stays 443); default: one Kubernetes picks."""

    @field_validator("port")
    @classmethod
    def _node_port_in_range(cls, port: int | None, info: ValidationInfo) -> int | None:
        low, high = NODE_PORT_RANGE
        if info.data.get("type") == "NodePort" and port is not None and not low <= port <= high:
            raise ValueError(f"a NodePort ingress's port is the node port, {low}-{high} (got {port}); "
                             f"the Service itself listens on {DEFAULT_INGRESS_PORT}")
        return port

    @property
    def service_port(self) -> int:
        """The port the Service listens on."""
        return DEFAULT_INGRESS_PORT if self.type == "NodePort" else (self.port or DEFAULT_INGRESS_PORT)

    @property
    def node_port(self) -> int | None:
        """The node port pinned for a NodePort ingress (None: Kubernetes picks one, or not a NodePort)."""
        return self.port if self.type == "NodePort" else None


class GatewayEndpoint(Strict):
    """An address at which a peer's gateway is reachable: one form from fabric.yaml (`clusterlink.gateway`) through
    the peer's `clusterlink` output (its model_dump, validated again where an importer reads it) to the Peer CR's
    `gateways[]`."""

    model_config = ConfigDict(frozen=True)

    host: Hostname
    port: Port


class DataplaneSettings(Strict):
    type: Literal["envoy", "go"] = "envoy"
    replicas: Annotated[int, Field(ge=1, le=10)] = 1


class ClusterLinkSettings(Strict):
    """`clusters[].clusterlink` in fabric.yaml."""

    namespace: DNSLabel = DEFAULT_NAMESPACE
    ingress: IngressSettings = Field(default_factory=IngressSettings)
    gateway: GatewayEndpoint | None = None
    """How other peers reach this one; required once another cluster imports from it."""
    labels: Labels = Field(default_factory=dict)
    """Peer attributes, usable in access policies as `peer.clusterlink.net/labels.<key>`; each becomes an argument
    `--peer-label key=value` of the control plane, so a key with '=' or a value with a space is refused here."""
    dataplane: DataplaneSettings = Field(default_factory=DataplaneSettings)
    imageTag: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")] = DEFAULT_IMAGE_TAG
    registry: Annotated[str, AfterValidator(_registry)] = "ghcr.io/clusterlink-net"


# --- the CRs -----------------------------------------------------------------


def _label_value(value: Any) -> Any:
    # The documentation writes `import.clusterlink.net/merge: true`, a YAML boolean;
    # Kubernetes label values are strings, so take the boolean as its string.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class CRMeta(ObjectMeta):
    labels: dict[str, Annotated[str, BeforeValidator(_label_value)]] = Field(default_factory=dict)


class ExportSpec(Strict):
    host: Hostname | None = None
    """What the data plane dials, resolved from the data plane's namespace: a DNS name or an IP address.
    Default (left out, and then not written): the Service of the Export's name in its namespace,
    `<name>.<namespace>.svc.cluster.local`, which ClusterLink checks exists."""
    port: Port
    """The port dialed (required: one Export per port)."""


class Export(Strict):
    apiVersion: Literal["clusterlink.net/v1alpha1"]
    kind: Literal["Export"]
    metadata: CRMeta
    spec: ExportSpec

    @property
    def service(self) -> str | None:
        """The Service of this cluster being shared: the Export's name when `spec.host` is left out
        (ClusterLink's default); None when the Export dials a host of its own."""
        return None if self.spec.host else self.metadata.name


class ImportSource(Strict):
    peer: DNSSubdomain
    exportName: DNSSubdomain
    exportNamespace: DNSLabel


class ImportSpec(Strict):
    port: Port
    """The port of the Service the Import creates."""
    targetPort: Port | None = None
    """The data plane's listening port; chosen by the program when absent."""
    sources: list[ImportSource] = Field(min_length=1)
    lbScheme: LBScheme = "random"
    """How a connection picks a source; written explicitly, default `random` as documented."""

    @field_validator("targetPort")
    @classmethod
    def _target_port_in_range(cls, port: int | None) -> int | None:
        problem = None if port is None else target_port_problem(port)
        if problem:
            raise ValueError(problem)
        return port

    @model_validator(mode="after")
    def _distinct_sources(self) -> "ImportSpec":
        seen = set()
        for i, s in enumerate(self.sources):
            key = (s.peer, s.exportNamespace, s.exportName)
            if key in seen:
                raise ValueError(f"sources[{i}] repeats peer {s.peer!r} export {s.exportNamespace}/{s.exportName}")
            seen.add(key)
        return self


class ImportMeta(CRMeta):
    name: DNS1035Label  # becomes a Service name


class Import(Strict):
    apiVersion: Literal["clusterlink.net/v1alpha1"]
    kind: Literal["Import"]
    metadata: ImportMeta
    spec: ImportSpec

    @property
    def merge(self) -> bool:
        return self.metadata.labels.get(MERGE_LABEL) == "true"


_HOST_PORT = re.compile(r"^(?P<host>[^:\s]+):(?P<port>\d{1,5})$")


def _gateway(value: Any) -> Any:
    # The Peer sample of the ClusterLink site writes gateways as "host:port".
    if isinstance(value, str) and (m := _HOST_PORT.fullmatch(value)):
        return {"host": m["host"], "port": int(m["port"])}
    return value


class PeerSpec(Strict):
    gateways: list[Annotated[GatewayEndpoint, BeforeValidator(_gateway)]] = Field(min_length=1)
    attributes: list[dict[str, str]] | None = Field(default=None, exclude=True)
    """In the site's Peer sample only; not in the CRD, so not written (labels come from fabric.yaml)."""


class Peer(Strict):
    apiVersion: Literal["clusterlink.net/v1alpha1"]
    kind: Literal["Peer"]
    metadata: CRMeta
    spec: PeerSpec


def peer_cr(name: str, namespace: str, gateways: Sequence[GatewayEndpoint], where: str) -> Peer:
    """The Peer the program writes for a peer: its gateways, in ClusterLink's namespace; InputError naming `where`
    for a peer that gives none."""
    return parse(Peer, {"apiVersion": API_VERSION, "kind": "Peer", "metadata": {"name": name, "namespace": namespace},
                        "spec": {"gateways": list(gateways)}}, where, f"Peer/{namespace}/{name}")


class LabelSelectorRequirement(Strict):
    key: Annotated[str, Field(min_length=1)]
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _values_fit_operator(self) -> "LabelSelectorRequirement":
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        return self


class LabelSelector(Strict):
    matchLabels: dict[str, str] = Field(default_factory=dict)
    matchExpressions: list[LabelSelectorRequirement] = Field(default_factory=list)


class WorkloadSetOrSelector(Strict):
    workloadSets: list[str] | None = None
    workloadSelector: LabelSelector | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "WorkloadSetOrSelector":
        if (self.workloadSets is None) == (self.workloadSelector is None):
            raise ValueError("exactly one of workloadSets and workloadSelector must be given")
        if self.workloadSets is not None:
            raise ValueError("workloadSets are not supported by ClusterLink yet; use workloadSelector")
        return self


class AccessPolicySpec(Strict):
    action: Literal["allow", "deny"]
    from_: list[WorkloadSetOrSelector] = Field(alias="from", min_length=1)
    to: list[WorkloadSetOrSelector] = Field(min_length=1)


class AccessPolicy(Strict):
    """A namespaced policy: applies to the Imports (egress) and Exports (ingress) of its namespace."""

    apiVersion: Literal["clusterlink.net/v1alpha1"]
    kind: Literal["AccessPolicy"]
    metadata: CRMeta
    spec: AccessPolicySpec


class ClusterMeta(CRMeta):
    """Metadata of a cluster-scoped object: a namespace is an error, not ignored."""

    namespace: None = None  # type: ignore[assignment]

    @field_validator("namespace", mode="before")
    @classmethod
    def _no_namespace(cls, value: Any) -> None:
        if value is not None:
            raise ValueError("PrivilegedAccessPolicy is cluster-scoped: remove metadata.namespace")
        return None


class PrivilegedAccessPolicy(Strict):
    """A cluster-wide policy, evaluated before every AccessPolicy."""

    apiVersion: Literal["clusterlink.net/v1alpha1"]
    kind: Literal["PrivilegedAccessPolicy"]
    metadata: ClusterMeta
    spec: AccessPolicySpec


KINDS: dict[tuple[str, str], type[BaseModel]] = {
    (API_VERSION, m.__name__): m for m in (Export, Import, Peer, AccessPolicy, PrivilegedAccessPolicy)
}


def cr_body(obj: BaseModel) -> dict[str, Any]:
    """The spec to write for a CR: field names as in YAML (`from`), only what was given."""
    return obj.spec.model_dump(by_alias=True, exclude_defaults=True)  # type: ignore[attr-defined]
