"""A fabric's ClusterLink clusters, running on this machine (root only).

Each ClusterLink cluster has its local API server (clusterfabric/local/apiserver.py)
holding what its stack declared. `LocalFabric` runs, for each, the real
`cl-controlplane` and `cl-go-dataplane` as pods (clusterfabric/local/pods.py) on one
private network (clusterfabric/local/netns.py), plus any workload a caller starts
(`run_workload`), and does for them the jobs of the Kubernetes parts that do
not run here:

- the kubelet's: each pod is registered as a Pod object with its address, so
  the control plane can tell which workload a connection comes from;
- the EndpointSlice controller's: every Service with a selector gets a slice of
  the running pods it selects (a merge Import copies the data plane's);
- kube-proxy's: in every pod, a connection to a Service's ClusterIP and port is
  translated to an endpoint (a selected pod, or a slice ClusterLink wrote), and
  `/etc/hosts` names each Service as cluster DNS would;
- a load balancer's: each cluster's `gateway.host` of fabric.yaml resolves to an
  address of the network that leads, at the ingress Service's port (or node
  port), to that cluster's data plane on 4443;
- the kubelet's other part: every second, each running pod's whole-Secret
  volumes are brought in line with their Secrets (an `up` that changes `cl-peer`
  reaches the control plane's files as it would in a cluster, a moment later).

`sync` reapplies the EndpointSlices, DNS and address translation after anything
changed (an `up`, a new workload, Services the control plane created).
Everything started is stopped by `stop`, by process group, the kubelet's loop
with it; the network's namespaces go with the network.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator
from urllib.parse import urlparse

from clusterfabric.components.model import FabricManifests
from clusterfabric.components.model import ClusterSpec

from .apiserver import SERVICE_CLUSTER_IP_RANGE, ControlPlane
from .kubeapi import KubeClient, KubeError
from .netns import PodNetwork
from .pods import LocalPod, PodError, PodSpec, http_status, pod_spec

if TYPE_CHECKING:
    from ..runner.fabric import Fabric

PLATFORM = ("cl-controlplane", "cl-dataplane")
DATAPLANE_PORT = 4443
READINESS_PORT = 4445
SLICE_MANAGER = "clusterfabric.local"
DEFAULT_TIMEOUT = 120.0
KUBELET_PERIOD = 1.0
"""Seconds between two refreshes of the pods' Secret volumes (a kubelet: its sync period, 60 s by default)."""


class LocalRunError(RuntimeError):
    """The local fabric could not be brought up; the message says which pod and shows its log."""


@dataclass
class RunningPod:
    """A pod of the local fabric: its process, cluster, and the Pod object it is known by."""

    pod: LocalPod
    cluster: str
    namespace: str
    name: str

    @property
    def labels(self) -> dict[str, str]:
        return self.pod.spec.labels

    @property
    def address(self) -> str:
        return self.pod.address


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _service_names(name: str, namespace: str) -> list[str]:
    return [f"{name}.{namespace}.svc.cluster.local", f"{name}.{namespace}.svc", f"{name}.{namespace}"]


class LocalFabric:
    """The ClusterLink clusters of `fabric` that have an API server in `planes`, their platforms running as pods
    against them (see module doc)."""

    def __init__(self, fabric: FabricManifests, planes: dict[str, ControlPlane], directory: Path, network: PodNetwork):
        self.fabric, self.planes, self.directory, self.network = fabric, planes, directory, network
        self.clusters: dict[str, ClusterSpec] = {c.name: c for c, _ in fabric.clusterlink_clusters() if c.name in planes}
        self.gateways: dict[str, str] = {}
        """Cluster -> the address its gateway host resolves to."""
        self.pods: list[RunningPod] = []
        self._restarts = 0
        self._routes: dict[str, tuple[list[tuple[str, int, str, int]], dict[str, tuple[str, str]]]] = {}
        """Cluster -> (its Services' address translations, their DNS names), as of the last `sync`."""
        self._stopping = threading.Event()
        self._kubelet = threading.Thread(target=self._refresh_volumes_until_stopped, name="kubelet", daemon=True)
        self.kubelet_errors: list[str] = []
        """The kubelet loop's last failures (at most 10), for a test's message."""

    # --- bringing it up -----------------------------------------------------------------

    def client(self, cluster: str) -> KubeClient:
        return self.planes[cluster].client()

    def start(self, timeout: float = DEFAULT_TIMEOUT) -> "LocalFabric":
        """Run every cluster's control plane and data plane; wait until each is ready and every Peer reachable."""
        for cluster in self.clusters:
            self.gateways[cluster] = self.network.reserve(f"{cluster}-gateway")
        prepared = [self._prepare_platform(cluster, deployment) for cluster in self.clusters for deployment in PLATFORM]
        self.sync()
        for running in prepared:
            self._launch(running, platform=True)
        for running in prepared:
            self._wait_ready(running, timeout)
        self.wait_peers_reachable(timeout)
        self._kubelet.start()
        return self

    def _prepare_platform(self, cluster: str, deployment: str, files: dict[str, bytes] | None = None,
                          instance: str = "0") -> RunningPod:
        namespace = self.clusters[cluster].clusterlink.namespace  # type: ignore[union-attr]
        name = f"{deployment}-{instance}"
        netns, address = self.network.add_pod(f"{cluster}-{name}")
        plane = self.planes[cluster]
        spec = pod_spec(plane.client(), (plane.directory / "pki" / "ca.crt").read_bytes(), namespace, deployment,
                        name, address)
        spec.replace_files(files or {})
        return self._register(cluster, spec, netns, address)

    def _register(self, cluster: str, spec: PodSpec, netns: str, address: str) -> RunningPod:
        """The kubelet's part: the Pod object, with its address, so the control plane can find it by IP."""
        self.network.route(netns, SERVICE_CLUSTER_IP_RANGE)
        running = RunningPod(LocalPod(spec, netns, address, self.directory / f"{cluster}-{spec.name}"),
                             cluster, spec.namespace, spec.name)
        client = self.client(cluster)
        client.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default", "namespace": spec.namespace}})
        client.apply({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": spec.labels},
                      "spec": {"containers": [{"name": "main", "image": f"local/{spec.binary.name}"}]}})
        client.request("PATCH", f"/api/v1/namespaces/{spec.namespace}/pods/{spec.name}/status", {"status": {
            "phase": "Running", "podIP": address, "podIPs": [{"ip": address}],
            "conditions": [{"type": "Ready", "status": "True"}]}}, content_type="application/merge-patch+json")
        self.pods.append(running)
        return running

    def _launch(self, running: RunningPod, platform: bool = False) -> None:
        api = urlparse(self.planes[running.cluster].url or "")
        running.pod.start(self._hosts_of(running), self.network,
                          (api.hostname or "127.0.0.1", api.port or 443) if platform else None)

    def _wait_ready(self, running: RunningPod, timeout: float) -> None:
        pod = running.pod
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pod.running():
                raise LocalRunError(f"{running.cluster}: {running.name} exited:\n{pod.log_tail()}")
            if http_status(pod.network_namespace, pod.address, READINESS_PORT) == 200:
                return
            time.sleep(0.5)
        raise LocalRunError(f"{running.cluster}: {running.name} not ready after {timeout:.0f}s:\n{pod.log_tail()}")

    def wait_peers_reachable(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Until every Peer of every cluster is marked reachable by its control plane's heartbeats."""
        wait_peers_reachable({cluster: (self.client(cluster), spec.clusterlink.namespace)  # type: ignore[union-attr]
                              for cluster, spec in self.clusters.items()}, timeout, LocalRunError)

    def run_workload(self, cluster: str, namespace: str, name: str, labels: dict[str, str], argv: list[str]) -> LocalPod:
        """Start `argv` as pod `namespace/name` of `cluster` with `labels` (a Service's selector finds it)."""
        netns, address = self.network.add_pod(f"{cluster}-{name}")
        spec = PodSpec(name, namespace, Path(argv[0]), list(argv[1:]), {}, {}, dict(labels))
        running = self._register(cluster, spec, netns, address)
        self.sync()
        self._launch(running)
        return running.pod

    def restart_platform(self, cluster: str, files: dict[str, dict[str, bytes]] | None = None,
                         timeout: float = DEFAULT_TIMEOUT) -> None:
        """Stop `cluster`'s platform pods and start new ones (`files`: deployment -> files to replace)."""
        files = files or {}
        old = [p for p in self.pods if p.cluster == cluster and p.name.rsplit("-", 1)[0] in PLATFORM]
        for running in old:
            running.pod.stop()
            self.client(cluster).request("DELETE", f"/api/v1/namespaces/{running.namespace}/pods/{running.name}")
            self.pods.remove(running)
        self._restarts += 1
        instance = str(self._restarts)
        prepared = [self._prepare_platform(cluster, d, files.get(d), instance) for d in PLATFORM]
        self.sync()
        for running in prepared:
            self._launch(running, platform=True)
        for running in prepared:
            self._wait_ready(running, timeout)

    def stop(self) -> None:
        """Stop the kubelet's loop, then every pod this fabric started (by process group), workloads first."""
        self._stopping.set()
        if self._kubelet.is_alive():
            self._kubelet.join(timeout=30)
        for running in reversed(self.pods):
            running.pod.stop()

    def refresh_secret_volumes(self) -> list[str]:
        """The kubelet's part: each running pod's whole-Secret volumes given their Secrets' contents, where these
        changed; the pods updated. A Secret missing (deleted to be replaced) leaves the pod's files as they are,
        as the kubelet does."""
        updated = []
        for running in list(self.pods):  # a snapshot: workloads are added from the test's thread
            pod = running.pod
            for mount, secret in pod.spec.secret_volumes.items():
                try:
                    data = {key: base64.b64decode(value) for key, value in (self.client(running.cluster).read(
                        "v1", "Secret", secret, running.namespace).get("data") or {}).items()}
                except KeyError:
                    continue
                if data != pod.volume(mount) and pod.running():
                    pod.update_volume(mount, data)
                    updated.append(f"{running.cluster}/{running.name}:{mount}")
        return updated

    def _refresh_volumes_until_stopped(self) -> None:
        while not self._stopping.wait(KUBELET_PERIOD):
            try:
                self.refresh_secret_volumes()
            except (KubeError, PodError, OSError) as err:  # a pod stopped meanwhile: the next round sees it
                self.kubelet_errors = [*self.kubelet_errors[-9:], str(err)]

    def pod(self, cluster: str, prefix: str) -> RunningPod:
        """The newest running pod of `cluster` whose name starts with `prefix` (`cl-dataplane`)."""
        return [p for p in self.pods if p.cluster == cluster and p.name.startswith(prefix)][-1]

    # --- the network's view of Services ---------------------------------------------------

    def sync(self) -> None:
        """EndpointSlices, /etc/hosts and address translation of every pod, from the Services the API servers
        hold now and the pods running now."""
        self._routes = {}
        gateway_rules: list[tuple[str, int, str, int]] = []
        for cluster in self.clusters:
            client = self.client(cluster)
            services = client.get("/api/v1/services")["items"]
            self._write_slices(cluster, client, services)
            slices = client.get("/apis/discovery.k8s.io/v1/endpointslices")["items"]
            self._routes[cluster] = self._service_routes(cluster, services, slices)
            gateway_rules += self._gateway_rules(cluster, services)
        for running in self.pods:
            rules, _ = self._routes[running.cluster]
            running.pod.write_hosts(self._hosts_of(running))
            self.network.set_dnat(running.pod.network_namespace, rules + gateway_rules)

    def _pods_of(self, cluster: str) -> list[RunningPod]:
        return [p for p in self.pods if p.cluster == cluster]

    def _write_slices(self, cluster: str, client: KubeClient, services: list[dict[str, Any]]) -> None:
        """The EndpointSlice controller's part, for Services with a selector that select a running pod."""
        for service in services:
            meta, spec = service["metadata"], service["spec"]
            selected = [p for p in self._pods_of(cluster)
                        if p.namespace == meta["namespace"] and _selects(spec.get("selector") or {}, p.labels)]
            if not selected:
                continue
            client.apply({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": f"{meta['name']}-local", "namespace": meta["namespace"], "labels": {
                    "kubernetes.io/service-name": meta["name"],
                    "endpointslice.kubernetes.io/managed-by": SLICE_MANAGER}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [p.address], "conditions": {"ready": True}} for p in selected],
                "ports": [{"name": port.get("name", ""), "port": _target_port(port), "protocol": "TCP"}
                          for port in spec.get("ports", [])],
            })

    def _service_routes(self, cluster: str, services: list[dict[str, Any]], slices: list[dict[str, Any]]):
        """(rules, names): each ClusterIP and port to its first endpoint; each Service's DNS names to its
        ClusterIP, or for an ExternalName Service to the name it stands for, as (kind, value)."""
        rules: list[tuple[str, int, str, int]] = []
        names: dict[str, tuple[str, str]] = {}
        for service in services:
            meta, spec = service["metadata"], service["spec"]
            if spec.get("type") == "ExternalName":
                for name in _service_names(meta["name"], meta["namespace"]):
                    names[name] = ("alias", spec["externalName"])
                continue
            address = spec.get("clusterIP")
            if not address or address == "None":
                continue
            for name in _service_names(meta["name"], meta["namespace"]):
                names[name] = ("address", address)
            endpoints = _endpoints(meta, slices)
            for port in spec.get("ports", []):
                found = endpoints.get(port.get("name", ""), endpoints.get("", []))
                if found:
                    to, to_port = found[0]
                    rules.append((address, port["port"], to, to_port))
        return rules, names

    def _gateway_rules(self, cluster: str, services: list[dict[str, Any]]) -> list[tuple[str, int, str, int]]:
        """A load balancer's part: the cluster's gateway address, at the ingress Service's port (LoadBalancer)
        or node port (NodePort), leads to its data plane."""
        namespace = self.clusters[cluster].clusterlink.namespace  # type: ignore[union-attr]
        ingress = next((s for s in services if s["metadata"]["namespace"] == namespace
                        and s["metadata"]["name"] == "clusterlink"), None)
        dataplanes = [p for p in self._pods_of(cluster) if p.name.startswith("cl-dataplane")]
        if ingress is None or not dataplanes:
            return []
        rules = []
        for port in ingress["spec"]["ports"]:
            opened = port.get("nodePort") if ingress["spec"]["type"] == "NodePort" else port["port"]
            if ingress["spec"]["type"] in ("LoadBalancer", "NodePort") and opened:
                rules.append((self.gateways[cluster], opened, dataplanes[-1].address, DATAPLANE_PORT))
        return rules

    def _hosts_of(self, running: RunningPod) -> dict[str, str]:
        """A pod's /etc/hosts: every Service of its cluster (short names for those of its own namespace), and
        every cluster's gateway host."""
        _, names = self._routes.get(running.cluster, ([], {}))
        resolved: dict[str, str] = {}
        for name in names:
            address = _resolve(name, names)
            if address:
                resolved[name] = address
                short, namespace = name.split(".")[:2]
                if namespace == running.namespace and name.endswith(".svc.cluster.local"):
                    resolved[short] = address
        for cluster, spec in self.clusters.items():
            gateway = spec.clusterlink.gateway  # type: ignore[union-attr]
            if gateway is not None and cluster in self.gateways:
                resolved[gateway.host] = self.gateways[cluster]
        return resolved


def _target_port(port: dict[str, Any]) -> int:
    target = port.get("targetPort", port["port"])
    return target if isinstance(target, int) else port["port"]


def wait_peers_reachable(clusters: dict[str, tuple[KubeClient, str]], timeout: float,
                         error: type[Exception] = RuntimeError) -> None:
    """Until every Peer of each cluster (cluster -> its API server's client and ClusterLink's namespace) is marked
    reachable by its control plane's heartbeats; else `error`, naming those that are not."""
    deadline = time.monotonic() + timeout
    for cluster, (client, namespace) in clusters.items():
        path = f"/apis/clusterlink.net/v1alpha1/namespaces/{namespace}/peers"
        while True:
            unreachable = [p["metadata"]["name"] for p in client.get(path)["items"] if not any(
                c["type"] == "PeerReachable" and c["status"] == "True"
                for c in p.get("status", {}).get("conditions", []))]
            if not unreachable:
                break
            if time.monotonic() > deadline:
                raise error(f"{cluster}: peers {', '.join(unreachable)} not reachable after {timeout:.0f}s")
            time.sleep(0.5)


def _endpoints(meta: dict[str, Any], slices: Iterable[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Port name -> (address, port) of every ready endpoint in the Service's EndpointSlices, ours first."""
    found: dict[str, list[tuple[str, int]]] = {}
    mine = [s for s in slices if s["metadata"]["namespace"] == meta["namespace"]
            and s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == meta["name"]]
    mine.sort(key=lambda s: s["metadata"]["labels"].get("endpointslice.kubernetes.io/managed-by") != SLICE_MANAGER)
    for endpoint_slice in mine:
        for port in endpoint_slice.get("ports") or []:
            for endpoint in endpoint_slice.get("endpoints") or []:
                for address in endpoint["addresses"]:
                    found.setdefault(port.get("name") or "", []).append((address, port["port"]))
    return found


def _resolve(name: str, names: dict[str, tuple[str, str]], depth: int = 0) -> str | None:
    kind, value = names.get(name, ("", ""))
    if kind == "address":
        return value
    if kind == "alias" and depth < 5:
        return _resolve(value, names, depth + 1)
    return None


@dataclass
class LocalRun:
    """A fabric deployed on local API servers, its ClusterLink platforms running (`run_locally`)."""

    fabric: "Fabric"
    planes: dict[str, ControlPlane]
    local: LocalFabric


@contextmanager
def run_locally(fabric_dir: Path, work_dir: Path, progress: Callable[[str], None] = lambda line: None,
                timeout: float = DEFAULT_TIMEOUT, clusters: list[str] | None = None) -> Iterator[LocalRun]:
    """The ClusterLink clusters of the fabric at `fabric_dir` (or those of `clusters`), for real on this machine: a
    copy of the program and of the fabric (`run.fabric.fabric_dir`, free to edit) in `work_dir` with a state backend
    of their own, an API server per cluster, every stack up, every platform running. Everything started is
    stopped, and every namespace deleted, on leaving, also on failure."""
    from .apiserver import control_planes, default_crds, start_all
    from ..runner.fabric import ClusterTarget, Fabric
    from ..toolchain import copy_program, pulumi_env

    project = copy_program(work_dir / "project")
    shutil.copytree(fabric_dir, project / "fabric")
    # A backend and passphrase of the run's own: the user's stacks are never touched.
    base = {k: v for k, v in os.environ.items() if k not in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    model = Fabric(project / "fabric", project_dir=project).load()
    clusters = [c.name for c, _ in model.clusterlink_clusters() if clusters is None or c.name in clusters]
    planes = control_planes(clusters, work_dir / "apiservers")
    try:
        start_all(planes, default_crds(), progress=progress)
        targets = {name: ClusterTarget(plane.kubeconfig, controllers=False) for name, plane in planes.items()}
        fabric = Fabric(project / "fabric", project_dir=project, env=pulumi_env(project, base), targets=targets,
                        on_event=lambda e: progress(f"{e.stack}: {e.message}") if e.kind == "finished" else None)
        result = fabric.up(clusters)
        if not result.ok:
            raise LocalRunError("the fabric did not come up: " + "; ".join(
                f"{s.stack}: {s.result} {s.message}" for s in result.stacks if not s.ok))
        with PodNetwork() as network:
            local = LocalFabric(fabric.load(), planes, work_dir / "pods", network)
            try:
                progress(f"starting cl-controlplane and cl-go-dataplane of {', '.join(clusters)}")
                local.start(timeout)
                progress("every platform ready, every peer reachable")
                yield LocalRun(fabric, planes, local)
            finally:
                local.stop()
    finally:
        for plane in planes.values():
            plane.stop()
