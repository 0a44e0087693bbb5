"""A small Kubernetes REST client: enough to install CRDs, read objects back and finalize namespaces.

The fabric's resources are managed by the Pulumi Kubernetes provider; this
client only checks its work from the outside (and sets up what must exist
before a stack runs), so it speaks plain HTTPS with the kubeconfig's client
certificate and needs no Kubernetes client library.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import yaml

FIELD_MANAGER = "clusterfabric"


class ControlPlaneError(RuntimeError):
    """A local control plane could not be started or reached; the message says which and why."""


class KubeError(RuntimeError):
    """The API server refused a request; `status` is the HTTP code, the message the server's own."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class ResourceType:
    api_version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...]


@dataclass
class KubeClient:
    server: str
    ca_file: str
    cert_file: str
    key_file: str
    _types: dict[tuple[str, str], ResourceType] | None = field(default=None, repr=False)

    @classmethod
    def from_kubeconfig(cls, path: Path) -> "KubeClient":
        """The current context of a kubeconfig whose credentials are files (as the local control planes write)."""
        config = yaml.safe_load(Path(path).read_text())
        context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        return cls(cluster["server"], cluster["certificate-authority"], user["client-certificate"], user["client-key"])

    def _connection(self, timeout: float) -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(self.cert_file, self.key_file)
        url = urlparse(self.server)
        return http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=timeout)

    def raw(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
            query: dict[str, str] | None = None, timeout: float = 30.0) -> str:
        """One request; the response text. 404 raises KeyError, any other refusal KubeError."""
        connection = self._connection(timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            target = path + ("?" + urlencode(query) if query else "")
            connection.request(method, target, body=data, headers={"Content-Type": content_type,
                                                                  "Accept": "application/json"})
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if response.status == 404:
            raise KeyError(path)
        if response.status >= 400:
            try:
                message = json.loads(text).get("message", text)
            except ValueError:
                message = text
            raise KubeError(response.status, message)
        return text

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        return json.loads(self.raw(method, path, body, **kwargs) or "{}")

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    # --- discovery ------------------------------------------------------------------

    def resource_types(self, refresh: bool = False) -> dict[tuple[str, str], ResourceType]:
        """(apiVersion, kind) -> how to reach it, from the server's discovery documents."""
        if self._types is None or refresh:
            versions = ["v1"] + [v["groupVersion"] for g in self.get("/apis")["groups"] for v in g["versions"]]
            types = {}
            for version in versions:
                base = "/api/v1" if version == "v1" else f"/apis/{version}"
                for resource in self.get(base)["resources"]:
                    if "/" in resource["name"]:
                        continue  # subresources such as status
                    types[(version, resource["kind"])] = ResourceType(
                        version, resource["kind"], resource["name"], resource["namespaced"], tuple(resource["verbs"]))
            self._types = types
        return self._types

    def path(self, api_version: str, kind: str, name: str | None = None, namespace: str | None = None) -> str:
        """The REST path of an object (or of its collection when `name` is None)."""
        kind_type = self.resource_types().get((api_version, kind)) or self.resource_types(refresh=True)[(api_version, kind)]
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        scope = f"/namespaces/{namespace}" if kind_type.namespaced and namespace else ""
        return f"{base}{scope}/{kind_type.plural}" + (f"/{name}" if name else "")

    def read(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self.get(self.path(api_version, kind, name, namespace))

    def namespace_objects(self, namespace: str) -> list[str]:
        """`kind/name` of every object in `namespace`, of every listable namespaced type."""
        found = []
        for kind_type in self.resource_types().values():
            if not kind_type.namespaced or "list" not in kind_type.verbs:
                continue
            try:
                items = self.get(self.path(kind_type.api_version, kind_type.kind, namespace=namespace))["items"]
            except (KeyError, KubeError):
                continue
            found += [f"{kind_type.kind}/{item['metadata']['name']}" for item in items]
        return sorted(set(found))

    # --- writes ------------------------------------------------------------------------

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply `obj` as field manager `clusterfabric` (idempotent)."""
        meta = obj["metadata"]
        path = self.path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        return self.request("PATCH", path, obj, content_type="application/apply-patch+yaml",
                            query={"fieldManager": FIELD_MANAGER, "force": "true"})

    def wait_established(self, crd_names: list[str], timeout: float = 60.0) -> None:
        """Wait until each CustomResourceDefinition is Established (its kinds can be served)."""
        deadline = time.monotonic() + timeout
        pending = list(crd_names)
        while pending:
            crd = self.read("apiextensions.k8s.io/v1", "CustomResourceDefinition", pending[0])
            conditions = {c["type"]: c["status"] for c in (crd.get("status") or {}).get("conditions") or []}
            if conditions.get("Established") == "True":
                pending.pop(0)
            elif time.monotonic() > deadline:
                raise KubeError(504, f"CustomResourceDefinition {pending[0]} not Established after {timeout:.0f}s")
            else:
                time.sleep(0.2)
        self.resource_types(refresh=True)
