"""ClusterLink v0.4.1's own CLI as the judge of the platform the program declares.

`upstream_platform` runs `clusterlink create fabric`, `create peer-cert` and
`deploy peer --start none` (the binary scripts/setup builds) with the settings a
cluster has in fabric.yaml, and returns the objects of the `k8s.yaml` it writes.
`normalize` reduces either side to what decides how ClusterLink runs: per object,
the containers' images, args, env, ports, probes and mounts (with the Secret and
key behind each), volumes, RBAC rules as a set, Services' types and ports,
Secrets' keys, and the profile of every certificate in them.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model.clusterlink import ClusterLinkSettings

CLI = PROJECT_DIR / ".tools" / "bin" / "clusterlink"
OWNERSHIP_LABELS = ("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by")

Key = tuple[str, str, str]  # kind, namespace ("-" when cluster-scoped), name


def cli_flags(peer: str, fabric: str, settings: ClusterLinkSettings) -> list[str]:
    """`clusterlink deploy peer` flags for the same settings."""
    ingress = {"LoadBalancer": "LoadBalancer", "NodePort": "NodePort", "ClusterIP": "none"}[settings.ingress.type]
    flags = ["--name", peer, "--fabric", fabric, "--namespace", settings.namespace, "--start", "none",
             "--ingress", ingress, "--dataplane", settings.dataplane.type,
             "--dataplane-replicas", str(settings.dataplane.replicas),
             "--container-registry", settings.registry, "--tag", settings.imageTag]
    if settings.ingress.port is not None:
        flags += ["--ingress-port", str(settings.ingress.port)]
    for key, value in settings.labels.items():
        flags += ["--label", f"{key}={value}"]
    return flags


def upstream_platform(workdir: Path, peer: str, fabric: str, settings: ClusterLinkSettings) -> list[dict[str, Any]]:
    """The objects `clusterlink deploy peer --start none` writes for `peer` with `settings`."""
    workdir.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([str(CLI), *args], cwd=workdir, check=True, capture_output=True, text=True, timeout=120)

    if not (workdir / fabric).is_dir():
        run("create", "fabric", "--name", fabric)
    run("create", "peer-cert", "--name", peer, "--fabric", fabric)
    run("deploy", "peer", *cli_flags(peer, fabric, settings))
    return [doc for doc in yaml.safe_load_all((workdir / fabric / peer / "k8s.yaml").read_text()) if doc]


def certificate_profile(pem: bytes) -> dict[str, Any]:
    """What a certificate file is for: the chain's subjects, and the leaf's CA flag, names and usages."""
    chain = x509.load_pem_x509_certificates(pem)
    leaf = chain[0]

    def extension(kind):
        try:
            return leaf.extensions.get_extension_for_class(kind).value
        except x509.ExtensionNotFound:
            return None

    constraints, names, usages = (extension(x509.BasicConstraints), extension(x509.SubjectAlternativeName),
                                  extension(x509.ExtendedKeyUsage))
    short = {ExtendedKeyUsageOID.SERVER_AUTH: "server", ExtendedKeyUsageOID.CLIENT_AUTH: "client"}
    return {
        "chain": [c.subject.rfc4514_string() for c in chain],
        "ca": bool(constraints and constraints.ca),
        "dns": sorted(names.get_values_for_type(x509.DNSName)) if names else [],
        "usages": sorted(short[u] for u in usages) if usages else [],
        "signs": bool(extension(x509.KeyUsage) and extension(x509.KeyUsage).key_cert_sign),
    }


def _secret(obj: dict[str, Any]) -> dict[str, Any]:
    data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    data |= {k: v.encode() for k, v in (obj.get("stringData") or {}).items()}
    return {"type": obj.get("type", "Opaque"),
            "keys": {k: certificate_profile(v) if b"CERTIFICATE" in v else "key" for k, v in sorted(data.items())}}


def _probe(probe: dict[str, Any] | None) -> dict[str, Any] | None:
    if not probe:
        return None
    get = probe["httpGet"]
    return {"path": get.get("path", "/"), "port": get["port"], "scheme": get.get("scheme", "HTTP")}


def _container(container: dict[str, Any], volumes: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": container["name"], "image": container["image"], "args": container.get("args", []),
        "imagePullPolicy": container.get("imagePullPolicy"),
        "ports": sorted((p["containerPort"], p.get("protocol", "TCP")) for p in container.get("ports", [])),
        "readiness": _probe(container.get("readinessProbe")),
        "mounts": sorted((m["mountPath"], volumes[m["name"]], m.get("subPath", ""), m.get("readOnly", False))
                         for m in container.get("volumeMounts", [])),
        "env": sorted((e["name"], repr(e.get("value", e.get("valueFrom")))) for e in container.get("env", [])),
    }


def _deployment(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    pod = spec["template"]["spec"]
    volumes = {v["name"]: f"secret/{v['secret']['secretName']}" for v in pod.get("volumes", [])}
    return {
        "replicas": spec.get("replicas", 1), "selector": spec["selector"],
        "podLabels": spec["template"]["metadata"].get("labels", {}),
        "serviceAccount": pod.get("serviceAccountName", "default"),
        "containers": [_container(c, volumes) for c in pod["containers"]],
    }


def _service(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    return {"type": spec.get("type", "ClusterIP"), "selector": spec.get("selector", {}), "ports": sorted(
        (p.get("name", ""), p["port"], p.get("targetPort", p["port"]), p.get("nodePort"), p.get("protocol", "TCP"))
        for p in spec["ports"])}


def _rules(obj: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in obj["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


NORMALIZE = {
    "Secret": _secret, "Deployment": _deployment, "Service": _service, "ClusterRole": _rules,
    "ClusterRoleBinding": lambda o: {"roleRef": o["roleRef"], "subjects": o["subjects"]},
    "Namespace": lambda o: {}, "ServiceAccount": lambda o: {},
}


def key_of(obj: dict[str, Any]) -> Key:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", "-"), meta["name"]


def normalize(objects: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """One entry per kind/namespace/name: its labels (without the fabric's ownership labels) and what decides
    how ClusterLink runs with it."""
    normalized = {}
    for obj in objects:
        labels = {k: v for k, v in (obj["metadata"].get("labels") or {}).items() if k not in OWNERSHIP_LABELS}
        normalized[key_of(obj)] = {"labels": labels, "spec": NORMALIZE[obj["kind"]](obj)}
    return normalized
