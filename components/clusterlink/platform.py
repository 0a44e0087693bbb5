"""The ClusterLink platform of one cluster, as ClusterLink v0.4.1 deploys it.

The reference is ClusterLink's own CLI, `clusterlink deploy peer --start none`
(template `pkg/bootstrap/platform/k8s.go`; the operator's instance controller
builds the same): in the ClusterLink namespace the certificate Secrets, the
`cl-controlplane` and `cl-dataplane` Deployments, the `cl-controlplane` Service,
the `clusterlink` ingress Service, and the control plane's cluster RBAC. The
binaries read fixed paths and ports (constants below, from `cmd/cl-controlplane/app`
and `cmd/cl-go-dataplane/app`); tests run those binaries against what is declared
here (tests/engine/test_clusterlink_upstream.py). Where this differs from the CLI,
on purpose, docs/clusterlink-platform.md says so and why.

Two trust roots, as upstream: the fabric CA signs each peer's certificate
(`cl-peer`, peer to peer mTLS); a CA of this cluster's own (`cl-ca`, issued here)
signs the control plane's server certificate and the data plane's client
certificate, so no peer's certificate can pass for a data plane of this cluster.

The desired objects are built as plain data first (`platform_objects`), then
declared; only the Secrets carry Outputs (key material, Pulumi secrets).

`Platform` is also a component of the package (components/plugin), usable alone: no
`from __future__ import annotations` here, as the component provider host reads `PlatformArgs`'
annotations as types.
"""

from dataclasses import dataclass, field
from typing import Any, NotRequired, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..component import Component
from ..model.certificates import CertificateSettings
from ..model.clusterlink import ClusterLinkSettings
from ..model.validation import parse, whole_numbers
from .certificates import CLIENT, SERVER, Certificate, issuer_of

CONTROLPLANE = "cl-controlplane"
DATAPLANE = "cl-dataplane"
GO_DATAPLANE_IMAGE = "cl-go-dataplane"
INGRESS = "clusterlink"
CA_SECRET = "cl-ca"
PEER_SECRET = "cl-peer"
CONTROLPLANE_PORT = 4444
DATAPLANE_PORT = 4443
READINESS_PORT = 4445
NAMESPACE_ENV = "CL_NAMESPACE"
LOG_LEVEL = "info"

# Where the binaries read their certificates (fixed in them, not flags).
CA_FILE = "/etc/ssl/certs/clink_ca.pem"
CERT_FILE = "/etc/ssl/certs/clink-{component}.pem"
KEY_FILE = "/etc/ssl/key/clink-{component}.pem"
PEER_TLS_DIRECTORY = "/etc/ssl/certs/clink"
PEER_FILES = ("cert.pem", "key.pem", "ca.pem")

_PART_OF = {"app.kubernetes.io/part-of": "clusterlink", "app.kubernetes.io/managed-by": "clusterfabric"}


class PlatformIngress(TypedDict):
    type: NotRequired[str]
    """`LoadBalancer` (the default), `NodePort`, or `ClusterIP` (reached through something else you run)."""
    port: NotRequired[int]
    """LoadBalancer and ClusterIP: the Service's port, 1-65535, default 443. NodePort: the node port every node
    opens, 30000-32767 (the Service itself listens on 443); default: one Kubernetes picks."""


class PlatformDataplane(TypedDict):
    type: NotRequired[str]
    """`envoy` (the default) or `go`: which of ClusterLink's data planes runs."""
    replicas: NotRequired[int]
    """How many data plane pods, 1-10; default 1."""


class PlatformArgs(TypedDict):
    peer: str
    """The peer's name (the cluster's): CN and DNS SAN of its peer certificate, the name other peers' Peer CRs
    and Imports use."""
    namespace: NotRequired[str]
    """ClusterLink's namespace (a DNS-1123 label, which must exist); default clusterlink-system."""
    ingress: NotRequired[PlatformIngress]
    """The `clusterlink` Service through which peers reach this cluster's data plane."""
    labels: NotRequired[dict[str, str]]
    """Peer attributes, usable in access policies as `peer.clusterlink.net/labels.<key>` (Kubernetes label keys
    and values)."""
    dataplane: NotRequired[PlatformDataplane]
    """The data plane's type and replicas."""
    image_tag: NotRequired[str]
    """The tag of ClusterLink's images (at most 128 characters of A-Z, a-z, 0-9, '_', '.', '-'); default v0.4.1."""
    registry: NotRequired[str]
    """Where the images come from: a registry host (optionally :port) and path; default ghcr.io/clusterlink-net;
    "" for bare image names."""
    fabric_ca_cert: pulumi.Input[str]
    """The fabric CA's certificate (PEM): peers trust each other through it. During a rollover of the fabric CA,
    both CAs' certificates (a PEM bundle)."""
    peer_cert: pulumi.Input[str]
    """This peer's certificate (PEM), issued by the fabric CA."""
    peer_key: pulumi.Input[str]
    """This peer's private key (PEM); kept as a Pulumi secret."""


_SETTINGS = {"namespace": "namespace", "ingress": "ingress", "labels": "labels", "dataplane": "dataplane",
             "image_tag": "imageTag", "registry": "registry"}


def platform_settings(name: str, args: PlatformArgs) -> ClusterLinkSettings:
    """The settings `args` give, validated as fabric.yaml's `clusterlink:` settings are, or InputError naming the
    component, the peer and the argument."""
    data = {field: args[arg] for arg, field in _SETTINGS.items() if arg in args}  # type: ignore[literal-required]
    return parse(ClusterLinkSettings, whole_numbers(data), f"{Platform.TOKEN} {name}", f"Platform/{args['peer']}")


def controlplane_args(settings: ClusterLinkSettings) -> list[str]:
    """`cl-controlplane`'s arguments: the log level, then one `--peer-label k=v` per label, by key (as the
    CLI's template ranges over them); access policies match the peer's labels."""
    labels = [arg for key in sorted(settings.labels) for arg in ("--peer-label", f"{key}={settings.labels[key]}")]
    return ["--log-level", LOG_LEVEL, *labels]


def image(settings: ClusterLinkSettings, name: str) -> str:
    registry = f"{settings.registry}/" if settings.registry else ""
    return f"{registry}{name}:{settings.imageTag}"


def _mounts(component: str) -> list[dict[str, Any]]:
    return [
        {"name": "ca", "mountPath": CA_FILE, "subPath": "ca", "readOnly": True},
        {"name": "tls", "mountPath": CERT_FILE.format(component=component.removeprefix("cl-")), "subPath": "cert",
         "readOnly": True},
        {"name": "tls", "mountPath": KEY_FILE.format(component=component.removeprefix("cl-")), "subPath": "key",
         "readOnly": True},
    ]


def _deployment(namespace: str, name: str, replicas: int, pod: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name, **_PART_OF}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod}},
    }


def ingress_service(settings: ClusterLinkSettings) -> dict[str, Any]:
    """The `clusterlink` Service peers reach this cluster through: a NodePort pins its node port (the
    ingress `port`), the others listen on it; every type forwards to the data plane's 4443."""
    ingress = settings.ingress
    port: dict[str, Any] = {"name": "dataplane", "port": ingress.service_port, "targetPort": DATAPLANE_PORT}
    if ingress.node_port is not None:
        port["nodePort"] = ingress.node_port
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": INGRESS, "namespace": settings.namespace, "labels": {"app": DATAPLANE, **_PART_OF}},
        "spec": {"type": ingress.type, "ports": [port], "selector": {"app": DATAPLANE}},
    }


def platform_objects(settings: ClusterLinkSettings) -> list[dict[str, Any]]:
    """Every object of the platform but its Secrets, as plain manifests."""
    ns = settings.namespace
    metadata = lambda name: {"name": name, "namespace": ns, "labels": {"app": name, **_PART_OF}}  # noqa: E731
    controlplane_pod = {
        "serviceAccountName": CONTROLPLANE,
        "volumes": [{"name": "ca", "secret": {"secretName": CA_SECRET}},
                    {"name": "tls", "secret": {"secretName": CONTROLPLANE}},
                    {"name": "peer-tls", "secret": {"secretName": PEER_SECRET}}],
        "containers": [{
            "name": CONTROLPLANE,
            "image": image(settings, CONTROLPLANE),
            "args": controlplane_args(settings),
            "imagePullPolicy": "IfNotPresent",
            "readinessProbe": {"httpGet": {"port": READINESS_PORT}},
            "ports": [{"containerPort": CONTROLPLANE_PORT}],
            "volumeMounts": [*_mounts(CONTROLPLANE),
                             {"name": "peer-tls", "mountPath": PEER_TLS_DIRECTORY, "readOnly": True}],
            "env": [{"name": NAMESPACE_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        }],
    }
    dataplane_pod = {
        "volumes": [{"name": "ca", "secret": {"secretName": CA_SECRET}},
                    {"name": "tls", "secret": {"secretName": DATAPLANE}}],
        "containers": [{
            "name": "dataplane",
            "image": image(settings, DATAPLANE if settings.dataplane.type == "envoy" else GO_DATAPLANE_IMAGE),
            "args": ["--log-level", LOG_LEVEL, "--controlplane-host", CONTROLPLANE],
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"containerPort": DATAPLANE_PORT}],
            "readinessProbe": {"httpGet": {"port": READINESS_PORT}},
            "volumeMounts": _mounts(DATAPLANE),
        }],
    }
    cluster_meta = {"name": CONTROLPLANE, "labels": {"app": CONTROLPLANE, **_PART_OF}}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(CONTROLPLANE)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": cluster_meta,
         "rules": CONTROLPLANE_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": cluster_meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CONTROLPLANE},
         "subjects": [{"kind": "ServiceAccount", "name": CONTROLPLANE, "namespace": ns}]},
        _deployment(ns, CONTROLPLANE, 1, controlplane_pod),
        _deployment(ns, DATAPLANE, settings.dataplane.replicas, dataplane_pod),
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata(CONTROLPLANE),
         "spec": {"selector": {"app": CONTROLPLANE}, "ports": [{"name": "controlplane", "port": CONTROLPLANE_PORT}]}},
        ingress_service(settings),
    ]


@dataclass(frozen=True)
class PlatformPlan:
    """A platform: the peer's name, its settings (validated) and `certificates`, the fabric_ca_cert, peer_cert
    and peer_key as PlatformArgs has them; `validity`: how long the cluster's own certificates are issued for."""

    peer: str
    settings: ClusterLinkSettings
    certificates: Any
    validity: CertificateSettings = field(default_factory=CertificateSettings)


def peer_chain(peer_cert: pulumi.Input[str], fabric_ca_cert: pulumi.Input[str]) -> pulumi.Output[str]:
    """`cert.pem`: the peer's certificate followed by its issuer's, the fabric CA of the bundle that signed it."""
    return pulumi.Output.all(peer_cert, fabric_ca_cert).apply(lambda pems: pems[0] + issuer_of(*pems))


class Platform(Component[PlatformPlan]):
    """ClusterLink's control plane and data plane in one cluster, with their certificates and RBAC, as
    `clusterlink deploy peer` makes them."""

    MODULE = "clusterlink"
    peer: str
    """The peer's name."""
    namespace: str
    """ClusterLink's namespace."""
    ingress_service: str
    """The name of the Service through which peers reach this cluster (in `namespace`)."""

    def __init__(self, name: str, args: PlatformArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        self._make(name, PlatformPlan(args["peer"], platform_settings(name, args), args), opts)

    def _declare(self, name: str, plan: PlatformPlan) -> None:
        settings, certificates, validity = plan.settings, plan.certificates, plan.validity
        ns = settings.namespace
        child = pulumi.ResourceOptions(parent=self)

        # This cluster's own CA and the two certificates it signs, as `deploy peer` makes them.
        ca = Certificate(f"{name}-{CA_SECRET}", CA_SECRET, validity, is_ca=True, opts=child)
        controlplane = Certificate(f"{name}-{CONTROLPLANE}-certificate", CONTROLPLANE, validity, issuer=ca,
                                   dns_names=[CONTROLPLANE], usages=(SERVER,), opts=child)
        dataplane = Certificate(f"{name}-{DATAPLANE}-certificate", DATAPLANE, validity, issuer=ca,
                                dns_names=[DATAPLANE], usages=(CLIENT,), opts=child)
        # Not a class annotation: the component provider host would take it for an output of the package.
        self.expiry = {CA_SECRET: ca.not_after(), CONTROLPLANE: controlplane.not_after(),
                       DATAPLANE: dataplane.not_after()}
        """The notAfter of the cluster's own CA and of the two certificates it signs, by Secret."""

        def secret(resource: str, data: dict[str, Any]) -> k8s.core.v1.Secret:
            return k8s.core.v1.Secret(
                f"{name}-{resource}", metadata={"name": resource, "namespace": ns, "labels": dict(_PART_OF)},
                type="Opaque", string_data={k: pulumi.Output.secret(v) for k, v in data.items()}, opts=child)

        self.secrets = [
            secret(CA_SECRET, {"ca": ca.cert_pem}),
            secret(CONTROLPLANE, {"cert": controlplane.chain_pem, "key": controlplane.key_pem}),
            secret(DATAPLANE, {"cert": dataplane.chain_pem, "key": dataplane.key_pem}),
            secret(PEER_SECRET, dict(zip(PEER_FILES, (
                peer_chain(certificates["peer_cert"], certificates["fabric_ca_cert"]), certificates["peer_key"],
                certificates["fabric_ca_cert"])))),
        ]
        declared: dict[tuple[str, str], pulumi.CustomResource] = {}
        for obj in platform_objects(settings):
            # Pods mount the Secrets and run as the ServiceAccount: declared after them.
            after = [*self.secrets, declared[("ServiceAccount", CONTROLPLANE)]] if obj["kind"] == "Deployment" else []
            declared[(obj["kind"], obj["metadata"]["name"])] = _declare_object(name, obj, pulumi.ResourceOptions(
                parent=self, depends_on=after))
        self.ingress = declared[("Service", INGRESS)]
        self.peer, self.namespace, self.ingress_service = plan.peer, ns, INGRESS
        self.register_outputs({"namespace": ns, "ingress": self.ingress.metadata["name"]})


# Resource names of release 0.2, kept so an upgrade updates these objects in place.
_RESOURCE_SUFFIX = {("ClusterRoleBinding", CONTROLPLANE): f"{CONTROLPLANE}-binding",
                    ("Service", CONTROLPLANE): f"{CONTROLPLANE}-service"}
_SNAKE = {"roleRef": "role_ref"}
_KINDS = {
    "ServiceAccount": k8s.core.v1.ServiceAccount, "Service": k8s.core.v1.Service,
    "ClusterRole": k8s.rbac.v1.ClusterRole, "ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
    "Deployment": k8s.apps.v1.Deployment,
}


def _declare_object(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    kind, object_name = obj["kind"], obj["metadata"]["name"]
    resource = f"{name}-{_RESOURCE_SUFFIX.get((kind, object_name), object_name)}"
    # Top-level fields as the SDK names its arguments (`roleRef` is `role_ref`); nested ones as in YAML.
    body = {_SNAKE.get(k, k): v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    return _KINDS[kind](resource, **body, opts=opts)


CONTROLPLANE_RULES = [
    # As upstream's ClusterRole: recording events; Imports become Services (or EndpointSlices of merged
    # Services) pointing at the data plane; leader election; its JWKS Secret; client workloads identified by
    # their pods; the CRs it reconciles, and their status.
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch", "create", "delete", "update"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "update"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
     "verbs": ["get", "list", "watch", "create", "delete", "update"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["clusterlink.net"], "resources": ["exports", "peers", "accesspolicies", "privilegedaccesspolicies"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["clusterlink.net"], "resources": ["imports"], "verbs": ["get", "list", "watch", "update"]},
    {"apiGroups": ["clusterlink.net"], "resources": ["imports/status", "exports/status", "peers/status"],
     "verbs": ["update"]},
]
