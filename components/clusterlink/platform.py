"""The ClusterLink platform of one cluster: what the ClusterLink operator would deploy.

In the ClusterLink namespace: the certificate Secrets, the control plane's
ServiceAccount and RBAC, the `cl-controlplane` and `cl-dataplane` Deployments,
the `cl-controlplane` Service, and the `clusterlink` Service through which peers
reach the data plane.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from ..model.clusterlink import ClusterLinkSettings

CONTROLPLANE = "cl-controlplane"
DATAPLANE = "cl-dataplane"
INGRESS = "clusterlink"
CONTROLPLANE_PORT = 4444
DATAPLANE_PORT = 4443
READINESS_PORT = 4445
NAMESPACE_ENV = "CL_NAMESPACE"
# Where ClusterLink's binaries read their certificates.
CA_FILE = "/etc/ssl/certs/clink_ca.pem"
CERT_FILE = "/etc/ssl/certs/clink-cert.pem"
KEY_FILE = "/etc/ssl/private/clink-key.pem"


class PlatformArgs(BaseModel):
    """A peer's platform: its name, settings, and its certificate (Outputs, secret key)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    peer: str
    settings: ClusterLinkSettings
    ca_cert: Any  # pulumi.Output[str]
    cert: Any  # pulumi.Output[str]
    key: Any  # pulumi.Output[str], secret


def _labels(component: str) -> dict[str, str]:
    return {"app": component, "app.kubernetes.io/part-of": "clusterlink", "app.kubernetes.io/managed-by": "clusterfabric"}


class Platform(pulumi.ComponentResource):
    """ClusterLink's control plane and data plane, with their certificates and RBAC."""

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:clusterlink:Platform", name, None, opts)
        s = args.settings
        ns = s.namespace
        child = pulumi.ResourceOptions(parent=self)

        def meta(resource: str, component: str | None = None) -> dict[str, Any]:
            return {"name": resource, "namespace": ns, "labels": _labels(component or resource)}

        def secret(resource: str, data: dict[str, Any]) -> k8s.core.v1.Secret:
            return k8s.core.v1.Secret(f"{name}-{resource}", metadata=meta(resource), type="Opaque",
                                      string_data={k: pulumi.Output.secret(v) for k, v in data.items()}, opts=child)

        self.secrets = [
            secret("cl-ca", {"ca": args.ca_cert}),
            secret(CONTROLPLANE, {"cert": args.cert, "key": args.key}),
            secret(DATAPLANE, {"cert": args.cert, "key": args.key}),
            secret("cl-peer", {"cert.pem": args.cert, "key.pem": args.key, "ca.pem": args.ca_cert}),
        ]
        account = k8s.core.v1.ServiceAccount(f"{name}-{CONTROLPLANE}", metadata=meta(CONTROLPLANE), opts=child)
        cluster_meta = {"name": CONTROLPLANE, "labels": _labels(CONTROLPLANE)}
        role = k8s.rbac.v1.ClusterRole(f"{name}-{CONTROLPLANE}", metadata=cluster_meta,
                                       rules=_CONTROLPLANE_RULES, opts=child)
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-{CONTROLPLANE}-binding",
            metadata=cluster_meta,
            role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role.metadata["name"]},
            subjects=[{"kind": "ServiceAccount", "name": CONTROLPLANE, "namespace": ns}],
            opts=child,
        )
        after_secrets = pulumi.ResourceOptions(parent=self, depends_on=[*self.secrets, account])
        image = f"{s.registry}/{{}}:{s.imageTag}"
        self._deployment(name, CONTROLPLANE, meta, 1, image.format(CONTROLPLANE), CONTROLPLANE_PORT,
                         ["--log-level", "info"], CONTROLPLANE, after_secrets,
                         env=[{"name": NAMESPACE_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                         service_account=CONTROLPLANE)
        dataplane_image = "cl-dataplane" if s.dataplane.type == "envoy" else "cl-go-dataplane"
        self._deployment(name, DATAPLANE, meta, s.dataplane.replicas, image.format(dataplane_image), DATAPLANE_PORT,
                         ["--log-level", "info", "--controlplane-host", CONTROLPLANE], DATAPLANE, after_secrets)
        k8s.core.v1.Service(f"{name}-{CONTROLPLANE}-service", metadata=meta(CONTROLPLANE),
                            spec={"selector": {"app": CONTROLPLANE},
                                  "ports": [{"name": "controlplane", "port": CONTROLPLANE_PORT}]}, opts=child)
        self.ingress = k8s.core.v1.Service(
            f"{name}-{INGRESS}", metadata=meta(INGRESS, DATAPLANE),
            spec={"type": s.ingress.type, "selector": {"app": DATAPLANE},
                  "ports": [{"name": "dataplane", "port": s.ingress.port, "targetPort": DATAPLANE_PORT}]},
            opts=child)
        self.register_outputs({"namespace": ns, "ingress": self.ingress.metadata["name"]})

    def _deployment(self, name, component, meta, replicas, image, port, args, secret_name, opts, env=None,
                    service_account=None) -> k8s.apps.v1.Deployment:
        pod: dict[str, Any] = {
            "volumes": [{"name": "ca", "secret": {"secretName": "cl-ca"}},
                        {"name": "tls", "secret": {"secretName": secret_name}}],
            "containers": [{
                "name": component,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "args": args,
                "ports": [{"containerPort": port}],
                "readinessProbe": {"httpGet": {"path": "/", "port": READINESS_PORT}},
                "volumeMounts": [
                    {"name": "ca", "mountPath": CA_FILE, "subPath": "ca", "readOnly": True},
                    {"name": "tls", "mountPath": CERT_FILE, "subPath": "cert", "readOnly": True},
                    {"name": "tls", "mountPath": KEY_FILE, "subPath": "key", "readOnly": True},
                ],
                **({"env": env} if env else {}),
            }],
            **({"serviceAccountName": service_account} if service_account else {}),
        }
        return k8s.apps.v1.Deployment(
            f"{name}-{component}", metadata=meta(component),
            spec={"replicas": replicas, "selector": {"matchLabels": {"app": component}},
                  "template": {"metadata": {"labels": _labels(component)}, "spec": pod}},
            opts=opts)


_CONTROLPLANE_RULES = [
    # Imports become Services (or EndpointSlices of merged Services) pointing at the data plane.
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch", "create", "delete", "update"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
     "verbs": ["get", "list", "watch", "create", "delete", "update"]},
    # Client workloads are identified by their pods.
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["clusterlink.net"],
     "resources": ["exports", "imports", "peers", "accesspolicies", "privilegedaccesspolicies"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["clusterlink.net"], "resources": ["exports/status", "imports/status", "peers/status"],
     "verbs": ["update"]},
]
