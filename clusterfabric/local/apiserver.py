"""Local control planes: a real `etcd` and `kube-apiserver` per cluster, on loopback.

`scripts/setup` builds both binaries from the Go module proxy (pinned by
`toolchain/apiserver/go.mod`) into `.tools/bin`. Each cluster gets a folder
(by default `.apiservers/<cluster>` in the project, git-ignored) holding its
etcd data, its certificates (a CA, the server's, an admin client's in group
`system:masters`, and the service-account signing key, all owner-only files:
this is a throwaway local cluster, not the fabric's secrets), its kubeconfig,
the two logs and `state.json` (ports and process ids).

No controller manager or kubelet runs: objects are stored, validated and
admitted by the real API server, pods never start. So the fabric skips the
provider's readiness waits in this mode, and `finalize_namespaces` does the
one job of the namespace controller a `destroy` depends on: a namespace the
fabric deleted, once empty, is finalized so that it really goes.

Servers are started in their own session, so they outlive the command that
started them (`clusterfabric apiservers start`) until `stop`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterfabric.components.clusterlink.certificates import issue

from .kubeapi import ControlPlaneError, KubeClient, KubeError
from ..runner.processes import alive, terminate
from ..toolchain import PROJECT_DIR, write_private

TOOLS = PROJECT_DIR / ".tools" / "bin"
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
START_TIMEOUT = 120.0


def binaries() -> dict[str, Path]:
    """The two server binaries; a clear error when setup has not built them."""
    found = {name: TOOLS / name for name in ("etcd", "kube-apiserver")}
    missing = [name for name, path in found.items() if not os.access(path, os.X_OK)]
    if missing:
        raise ControlPlaneError(f"{', '.join(missing)} not found in {TOOLS}: run scripts/setup")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(directory: Path, log: str, argv: list[str]) -> int:
    """Start `argv` in a session of its own in `directory`, its output in `directory/<log>.log`; its PID."""
    with open(directory / f"{log}.log", "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=directory)
    return process.pid


def wait_for_process(ready, timeout: float, what: str, log: Path, pid: int,
                     error: type[Exception] = ControlPlaneError) -> None:
    """Until `ready()`, while process `pid` runs, for at most `timeout` seconds; else `error` with its log's end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        if ready():
            return
        time.sleep(0.25)
    why = f"not ready after {timeout:.0f}s" if alive(pid) else "exited"
    tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
    raise error(f"{what} {why}; last lines of {log}:\n  " + "\n  ".join(tail))


@dataclass
class ControlPlane:
    """One cluster's etcd and kube-apiserver; `start`, `stop`, and its `kubeconfig`."""

    name: str
    directory: Path

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def _state_file(self) -> Path:
        return self.directory / "state.json"

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        write_private(self._state_file, json.dumps(state, indent=2))

    @property
    def url(self) -> str | None:
        port = self._state().get("apiserver_port")
        return f"https://127.0.0.1:{port}" if port else None

    def running(self) -> bool:
        state = self._state()
        return alive(state.get("etcd_pid")) and alive(state.get("apiserver_pid"))

    def client(self) -> KubeClient:
        return KubeClient.from_kubeconfig(self.kubeconfig)

    # --- start / stop ---------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> "ControlPlane":
        """Start what is not running (same ports and data as before, so a restart keeps every object),
        then wait until the API server answers /readyz."""
        found = binaries()
        state = self._state()
        if not state:
            state = {"etcd_port": _free_port(), "peer_port": _free_port(), "apiserver_port": _free_port()}
        self._ensure_pki()
        self._write_kubeconfig(state["apiserver_port"])
        if not alive(state.get("etcd_pid")):
            state["etcd_pid"] = self._spawn("etcd", [str(found["etcd"]), *self._etcd_args(state)])
        self._save(state)
        self._wait(lambda: self._etcd_healthy(state["etcd_port"]), timeout, "etcd", "etcd.log", state["etcd_pid"])
        if not alive(state.get("apiserver_pid")):
            state["apiserver_pid"] = self._spawn("apiserver", [str(found["kube-apiserver"]), *self._apiserver_args(state)])
        self._save(state)
        self._wait(self._apiserver_ready, timeout, "kube-apiserver", "apiserver.log", state["apiserver_pid"])
        return self

    def stop_apiserver(self) -> None:
        """Stop only the API server (etcd and its data stay): a control plane outage, as in a fault test."""
        self._terminate("apiserver_pid")

    def stop(self) -> None:
        """Stop both servers cleanly (SIGTERM, then SIGKILL after 20 s); data and certificates stay."""
        self._terminate("apiserver_pid")
        self._terminate("etcd_pid")

    def _terminate(self, key: str, grace: float = 20.0) -> None:
        state = self._state()
        terminate(state.get(key), grace)
        state.pop(key, None)
        if state:
            self._save(state)

    def _spawn(self, log: str, argv: list[str]) -> int:
        return spawn(self.directory, log, argv)

    def _wait(self, ready, timeout: float, what: str, log: str, pid: int) -> None:
        wait_for_process(ready, timeout, f"{self.name}: {what}", self.directory / log, pid)

    # --- configuration ----------------------------------------------------------

    def _etcd_args(self, state: dict[str, Any]) -> list[str]:
        client, peer = f"http://127.0.0.1:{state['etcd_port']}", f"http://127.0.0.1:{state['peer_port']}"
        return [
            f"--name={self.name}", f"--data-dir={self.directory / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.name}={peer}", "--log-level=warn",
        ]

    def _apiserver_args(self, state: dict[str, Any]) -> list[str]:
        pki = self.directory / "pki"
        return [
            f"--etcd-servers=http://127.0.0.1:{state['etcd_port']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={state['apiserver_port']}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'service-accounts.pub'}",
            f"--service-account-signing-key-file={pki / 'service-accounts.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC", "--allow-privileged=true", "--profiling=false",
            f"--cert-dir={pki}", "-v=1",
        ]

    def _ensure_pki(self) -> None:
        pki = self.directory / "pki"
        if (pki / "admin.key").exists():
            return
        ca = issue(f"{self.name} local control plane CA", 365, True, None, None)
        server = issue("kube-apiserver", 365, False, ca["cert_pem"], ca["key_pem"],
                       dns_names=["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
                       ip_addresses=self._server_addresses())
        admin = issue("clusterfabric-admin", 365, False, ca["cert_pem"], ca["key_pem"], dns_names=[],
                      organization="system:masters")
        accounts = issue("service-accounts", 365, False, None, None)
        for file, text in {"ca.crt": ca["cert_pem"], "ca.key": ca["key_pem"],
                           "apiserver.crt": server["cert_pem"], "apiserver.key": server["key_pem"],
                           "admin.crt": admin["cert_pem"], "service-accounts.key": accounts["key_pem"],
                           "service-accounts.pub": _public_key(accounts["key_pem"]),
                           "admin.key": admin["key_pem"]}.items():  # admin.key last: it marks the set complete
            write_private(pki / file, text)

    def _server_addresses(self) -> list[str]:
        """The addresses the API server's certificate names: where clients and pods reach it."""
        return ["127.0.0.1", "10.96.0.1"]

    def _write_kubeconfig(self, port: int) -> None:
        pki = self.directory / "pki"
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": self.name,
            "clusters": [{"name": self.name, "cluster": {
                "server": f"https://127.0.0.1:{port}", "certificate-authority": str(pki / "ca.crt")}}],
            "users": [{"name": "admin", "user": {
                "client-certificate": str(pki / "admin.crt"), "client-key": str(pki / "admin.key")}}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": "admin"}}],
        }
        write_private(self.kubeconfig, json.dumps(config, indent=2))

    # --- health -------------------------------------------------------------------

    @staticmethod
    def _etcd_healthy(port: int) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                return json.loads(response.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def _apiserver_ready(self) -> bool:
        try:
            return self.client().raw("GET", "/readyz") == "ok"
        except (KubeError, OSError):
            return False


def _public_key(key_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def control_planes(clusters: list[str], root: Path | None = None) -> dict[str, ControlPlane]:
    """The control plane of each cluster, in `root` (default `.apiservers` in this checkout; the CLI gives the
    fabric's project's)."""
    base = root or PROJECT_DIR / ".apiservers"
    return {name: ControlPlane(name, base / name) for name in clusters}


def start_all(planes: dict[str, ControlPlane], crds: Path | None = None, progress=print) -> None:
    """Start every control plane (reusing those running) and install the CRDs in each."""
    documents = crd_documents(crds) if crds is not None else []
    for name, plane in planes.items():
        progress(f"{name}: starting etcd and kube-apiserver")
        plane.start()
        if documents:
            install_crds(plane.client(), documents)
        progress(f"{name}: API server ready at {plane.url} ({len(documents)} CRDs; kubeconfig {plane.kubeconfig})")


def default_crds() -> Path:
    """The upstream CRDs the fabric's objects need, copied into the package (clusterfabric/crds, sources in
    each folder's SOURCE.md)."""
    return PROJECT_DIR / "clusterfabric" / "crds"


def finalize_namespaces(client: KubeClient, names: list[str]) -> list[str]:
    """The namespace controller's last step, for namespaces `names` that are terminating: remove the Events the
    API server itself recorded there, then, if nothing else is left, clear the `kubernetes` finalizer so the
    namespace goes. Returns those finalized; a namespace still holding other objects is left alone (they were
    not the fabric's to delete).

    The Events are the server's own: its repair loops for ClusterIPs and NodePorts record one (`PortNotAllocated`)
    when a Service's allocation is checked while it is being created or deleted, which a loaded machine makes
    likely. Left there, they kept the namespace terminating after a `destroy`."""
    finalized = []
    for name in names:
        try:
            namespace = client.get(f"/api/v1/namespaces/{name}")
        except KeyError:
            continue
        if not namespace["metadata"].get("deletionTimestamp"):
            continue
        _delete_events(client, name)
        if client.namespace_objects(name):
            continue
        namespace["spec"]["finalizers"] = []
        client.request("PUT", f"/api/v1/namespaces/{name}/finalize", namespace)
        finalized.append(name)
    return finalized


def _delete_events(client: KubeClient, namespace: str) -> None:
    for events in (f"/api/v1/namespaces/{namespace}/events", f"/apis/events.k8s.io/v1/namespaces/{namespace}/events"):
        try:
            client.request("DELETE", events)
        except KeyError:  # an API the server does not serve
            pass


def crd_documents(directory: Path) -> list[dict[str, Any]]:
    """Every CustomResourceDefinition under `directory` (a deploying tool's aside: rendered.TOOL_CRDS), one per
    name; where Gateway API ships a standard and an experimental channel, the experimental one (it alone has
    TLSRoute and the fields Lattice uses)."""
    from ..gitops.rendered import crd_files, load_rendered

    if not directory.is_dir():
        raise ControlPlaneError(f"no CRD directory {directory} (give the upstream CRDs with --crds)")
    chosen: dict[str, tuple[bool, dict[str, Any]]] = {}
    for path in crd_files(directory):
        for doc in load_rendered(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            experimental = "experimental" in path.parts
            name = doc["metadata"]["name"]
            if name not in chosen or (experimental and not chosen[name][0]):
                chosen[name] = (experimental, doc)
    return [doc for _, doc in sorted(chosen.values(), key=lambda item: item[1]["metadata"]["name"])]


def install_crds(client: KubeClient, documents: list[dict[str, Any]]) -> list[str]:
    """Apply the CRDs (server-side, so a rerun changes nothing) and wait until their kinds are served."""
    for doc in documents:
        client.apply(doc)
    names = [doc["metadata"]["name"] for doc in documents]
    client.wait_established(names)
    return names
