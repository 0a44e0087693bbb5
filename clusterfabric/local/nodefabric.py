"""A fabric's ClusterLink clusters on local clusters with real nodes (clusterfabric/local/nodes.py; root only).

`run_on_nodes` starts one single-node cluster per ClusterLink cluster of the fabric, brings every stack up
against them, and waits until the real kubelet runs the platform exactly as rendered: each Deployment available
(its pods' readiness probes answered), every Peer reachable through the other cluster's gateway. Nothing here
stands in for a Kubernetes part but the load balancer: each LoadBalancer Service gets its cluster's gateway
address as `status.loadBalancer.ingress` (nodes.py's module doc says how the ingress types map).

Workloads are real pods too: `run_pod` applies a Pod and `pod_log` reads its log through the API server and the
kubelet, as `kubectl logs` does.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from itertools import count
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from clusterfabric.components.clusterlink.platform import CONTROLPLANE, DATAPLANE, GO_DATAPLANE_IMAGE, image

from . import images
from .apiserver import ControlPlane, crd_documents, default_crds, install_crds
from .iperf3 import EXAMPLE, SERVER_PORT, Transfer
from .kubeapi import KubeClient, KubeError
from .loadbalancer import publish
from .localfabric import wait_peers_reachable
from .nodes import Node, NodeControlPlane, Ranges, host_state

if TYPE_CHECKING:
    from ..runner.fabric import ClusterTarget, Fabric

DEFAULT_TIMEOUT = 180.0
PLATFORM = (CONTROLPLANE, DATAPLANE)
CONNECT_DELAY = 2
"""Seconds an iperf3 client pod waits before it connects: ClusterLink's control plane names a workload by its
Pod's address, which the kubelet reports a moment after the container starts (a connection before that comes from
a workload with no labels)."""
_clients = count()


class NodeRunError(RuntimeError):
    """The fabric did not come up on the nodes; the message says what was not ready and why."""


@dataclass
class NodeRun:
    """A fabric deployed on local clusters with nodes (`run_on_nodes`)."""

    fabric: "Fabric"
    nodes: dict[str, Node]
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in each part of the start, summed over the clusters."""

    def client(self, cluster: str) -> KubeClient:
        return self.nodes[cluster].client()

    def namespace(self, cluster: str) -> str:
        spec = {c.name: c for c, _ in self.fabric.load().clusterlink_clusters()}[cluster]
        return spec.clusterlink.namespace  # type: ignore[union-attr]


def gateway_addresses(model: Any, ranges: dict[str, Ranges]) -> dict[str, str]:
    """Each cluster's `gateway.host` -> the address it is reached at here: the gateway address a LoadBalancer
    ingress is published at, or the node's address for a NodePort."""
    found = {}
    for cluster, _ in model.clusterlink_clusters():
        settings, gateway = cluster.clusterlink, cluster.clusterlink.gateway
        if gateway is None or cluster.name not in ranges:
            continue
        if settings.ingress.type == "LoadBalancer":
            found[gateway.host] = ranges[cluster.name].gateway
        elif settings.ingress.type == "NodePort":
            found[gateway.host] = ranges[cluster.name].node
    return found


def clusterlink_images(settings: Any) -> list[images.Image]:
    """ClusterLink's images under the references the cluster's platform names (its registry and tag settings)."""
    return images.clusterlink_images({CONTROLPLANE: image(settings, CONTROLPLANE),
                                      GO_DATAPLANE_IMAGE: image(settings, GO_DATAPLANE_IMAGE)})


def publish_load_balancers(run: NodeRun) -> list[str]:
    """The load balancer's part, at once (each node's load balancer process does it too, once a second): every
    LoadBalancer Service of each cluster gets the cluster's gateway address."""
    return [f"{cluster}/{name}={node.ranges.gateway}" for cluster, node in run.nodes.items()
            for name in publish(node.client(), node.ranges.gateway)]


def deployment_ready(client: KubeClient, namespace: str, name: str) -> bool:
    try:
        deployment = client.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    except KeyError:
        return False
    status, wanted = deployment.get("status", {}), deployment["spec"].get("replicas", 1)
    return (status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("updatedReplicas", 0) == wanted and status.get("availableReplicas", 0) == wanted
            and status.get("replicas", 0) == wanted)


def why_not_ready(client: KubeClient, namespace: str, selector: str) -> str:
    """What the pods of `selector` and their events say: the message of a readiness failure."""
    lines = []
    for pod in client.request("GET", f"/api/v1/namespaces/{namespace}/pods", query={"labelSelector": selector})["items"]:
        name = pod["metadata"]["name"]
        for status in pod.get("status", {}).get("containerStatuses", []):
            state = next(iter(status.get("state", {}).items()), ("unknown", {}))
            lines.append(f"{name}: {status['name']} ready={status.get('ready')} restarts={status.get('restartCount')} "
                         f"{state[0]} {state[1].get('reason', '')} {state[1].get('message', '')}".rstrip())
            if status.get("restartCount"):  # what the container said before it ended, last time
                try:
                    said = client.raw("GET", f"/api/v1/namespaces/{namespace}/pods/{name}/log",
                                      query={"container": status["name"], "previous": "true", "tailLines": "3"})
                except (KeyError, KubeError):
                    said = ""
                lines += [f"{name}: {status['name']} said: {line.strip()}" for line in said.splitlines()]
        events = client.request("GET", f"/api/v1/namespaces/{namespace}/events",
                                query={"fieldSelector": f"involvedObject.name={name}"})
        for event in events["items"][-5:]:
            if event.get("type") == "Warning":
                lines.append(f"{name}: {event.get('reason')}: {event.get('message', '').strip()}")
    return "\n  ".join(lines) or "no pods"


def wait_deployments(run: NodeRun, wanted: list[tuple[str, str, str]], timeout: float) -> None:
    """Until each (cluster, namespace, Deployment) is available; else NodeRunError with its pods' story."""
    wait_available({cluster: run.client(cluster) for cluster, _, _ in wanted}, wanted, timeout)


def wait_available(clients: dict[str, KubeClient], wanted: list[tuple[str, str, str]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for cluster, namespace, name in wanted:
        client = clients[cluster]
        while not deployment_ready(client, namespace, name):
            if time.monotonic() > deadline:
                raise NodeRunError(f"{cluster}: Deployment {namespace}/{name} not available after {timeout:.0f}s:\n  "
                                   + why_not_ready(client, namespace, f"app={name}"))
            time.sleep(0.5)


def wait_platforms(run: NodeRun, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Every platform Deployment available and every Peer reachable (after an `up` or a restart)."""
    publish_load_balancers(run)
    wait_deployments(run, [(c, run.namespace(c), name) for c in run.nodes for name in PLATFORM], timeout)
    wait_peers_reachable({c: (run.client(c), run.namespace(c)) for c in run.nodes}, timeout, NodeRunError)


def run_pod(client: KubeClient, namespace: str, name: str, argv: list[str], labels: dict[str, str] | None = None,
            image_reference: str = images.IPERF3, restart: str = "Never") -> dict[str, Any]:
    """A Pod running `argv` (the image's binary and its arguments), made anew."""
    try:
        client.request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}",
                       {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            client.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
            time.sleep(0.2)
    except KeyError:
        pass
    return client.apply({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels or {"run": name}},
                         "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 0,
                                  "containers": [{"name": "main", "image": image_reference,
                                                  "imagePullPolicy": "IfNotPresent", "command": argv}]}})


def wait_pod(client: KubeClient, namespace: str, name: str, phases: tuple[str, ...], timeout: float) -> dict[str, Any]:
    """The Pod once in one of `phases` (Running ones also ready); else NodeRunError with its story."""
    deadline = time.monotonic() + timeout
    while True:
        pod = client.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
        phase = pod.get("status", {}).get("phase")
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))
        if phase in phases and (phase != "Running" or ready):
            return pod
        if time.monotonic() > deadline:
            raise NodeRunError(f"pod {namespace}/{name} is {phase}, not {'/'.join(phases)}, after {timeout:.0f}s:\n  "
                               + why_not_ready(client, namespace, f"run={name}"))
        time.sleep(0.3)


def pod_log(client: KubeClient, namespace: str, name: str) -> str:
    return client.raw("GET", f"/api/v1/namespaces/{namespace}/pods/{name}/log")


def serve(run: NodeRun, cluster: str = "server", namespace: str = "default") -> None:
    """`iperf3 -s` as a pod of `cluster` labelled app=iperf3-server (the example's Service selects it), running."""
    client = run.client(cluster)
    run_pod(client, namespace, "iperf3-server", ["/usr/bin/iperf3", "-s", "-p", str(SERVER_PORT)],
            labels={"app": "iperf3-server"}, restart="Always")
    wait_pod(client, namespace, "iperf3-server", ("Running",), 120)


def iperf3_client(run: NodeRun, host: str, port: int, seconds: int = 2, cluster: str = "client",
                  labels: dict[str, str] | None = None, namespace: str = "default") -> Transfer:
    """`iperf3 -c host -p port -t seconds -J` as a pod of `cluster` (labelled app=iperf3-client unless `labels` says
    otherwise), its JSON report read from its log; the pod is deleted after."""
    name = f"iperf3-client-{next(_clients)}"
    client = run.client(cluster)
    run_pod(client, namespace, name, ["/usr/bin/after", str(CONNECT_DELAY), "/usr/bin/iperf3", "-c", host, "-p",
                                      str(port), "-t", str(seconds), "-J", "--connect-timeout", "3000"],
            labels=labels or {"app": "iperf3-client"})
    try:
        pod = wait_pod(client, namespace, name, ("Succeeded", "Failed"), 60 + seconds)
        log = pod_log(client, namespace, name)
    finally:
        client.request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}",
                       {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
    status = pod["status"]["containerStatuses"][0]["state"].get("terminated", {}).get("exitCode")
    try:
        report = json.loads(log)
    except ValueError:
        report = {"error": f"no JSON report: {log[-500:]}"}
    return Transfer(status, report)


def run_example_on_nodes(work_dir: Path, seconds: int = 5, progress: Callable[[str], None] = print,
                         fabric_dir: Path = EXAMPLE) -> tuple[Transfer, Transfer]:
    """The whole example on local clusters with nodes: (from the client cluster through ClusterLink by the imported
    Service's name, within the server cluster by the exported Service's name, for comparison)."""
    with run_on_nodes(fabric_dir, work_dir, progress) as run:
        serve(run)
        progress(f"iperf3 -c iperf3-server -p 5000 -t {seconds} as a pod of cluster client (through ClusterLink)")
        through = iperf3_client(run, "iperf3-server", 5000, seconds)
        progress(f"iperf3 -c iperf3-server -p 5000 -t {seconds} as a pod of cluster server (within it)")
        within = iperf3_client(run, "iperf3-server", 5000, seconds, cluster="server")
        progress("start: " + ", ".join(f"{part} {value:.1f} s" for part, value in run.timings.items()))
        return through, within


def node_clusters(model: Any, root: Path, clusters: list[str] | None = None) -> dict[str, Node]:
    """The local cluster with a node of each ClusterLink cluster of the fabric `model` (or of `clusters` among
    them), in `root/<cluster>`, started or not: the same addresses in every process that asks (a cluster's index
    among them gives its ranges)."""
    specs = [c.name for c, _ in model.clusterlink_clusters() if clusters is None or c.name in clusters]
    ranges = {name: Ranges(index) for index, name in enumerate(specs)}
    hosts = gateway_addresses(model, ranges)
    return {name: Node(NodeControlPlane(name, root / name, ranges[name]), hosts) for name in specs}


def start_nodes(model: Any, nodes: dict[str, Node], crds: Path | None = None, progress: Callable[[str], None] = print,
                timings: dict[str, float] | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Start each cluster with a node that is not running (the images its platform names imported, the CRDs
    installed), then wait until each one's CoreDNS is available. The host is saved as it was before the first
    node started: the last one's stop restores it."""
    specs = {c.name: c for c, _ in model.clusterlink_clusters()}
    documents = crd_documents(crds or default_crds())
    running = [node._state()["host"] for node in nodes.values() if node.running() and node._state().get("host")]
    host = running[0] if running else host_state()
    for name, node in nodes.items():
        progress(f"{name}: starting a cluster with a node ({node.ranges.node})")
        node.start(clusterlink_images(specs[name].clusterlink), timings=timings, host=host)
        install_crds(node.client(), documents)
    wait_available({name: node.client() for name, node in nodes.items()},
                   [(name, "kube-system", "coredns") for name in nodes], timeout)
    for name, node in nodes.items():
        progress(f"{name}: a cluster with a node at {node.plane.url} (kubeconfig {node.plane.kubeconfig})")


def stop_nodes(nodes: dict[str, Node]) -> list[str]:
    """Stop every cluster (each node's `stop`: processes by PID, sandboxes, mounts, cgroups, namespaces; the host
    restored after the last); what could not be removed, by cluster."""
    for node in nodes.values():
        node.problems = node.stop()
    return [f"{name}: {problem}" for name, node in nodes.items() for problem in node.problems]


def local_clusters(model: Any, root: Path, nodes: bool) -> tuple[dict[str, Node], dict[str, ControlPlane]]:
    """The fabric's local clusters in `root` (the CLI's `apiservers` and `--apiservers`): a cluster with a node for
    each ClusterLink cluster when `nodes` asks or one was started there before (its node's state file), and the
    API server alone (apiserver.py) for every other cluster."""
    found = node_clusters(model, root)
    chosen = {name: node for name, node in found.items() if nodes or (node.directory / "state.json").exists()}
    planes = {c.name: ControlPlane(c.name, root / c.name) for c in model.spec.clusters if c.name not in chosen}
    return chosen, planes


def node_target(node: Node) -> "ClusterTarget":
    """Where a stack of a cluster with a node applies: its API server, with controllers (the controller manager
    rolls Deployments out and collects garbage, the kubelet runs pods, the node's load balancer publishes
    LoadBalancer Services), so the provider awaits readiness as on any cluster."""
    from ..runner.fabric import ClusterTarget

    return ClusterTarget(node.plane.kubeconfig, controllers=True)


@contextmanager
def run_on_nodes(fabric_dir: Path, work_dir: Path, progress: Callable[[str], None] = lambda line: None,
                 timeout: float = DEFAULT_TIMEOUT, clusters: list[str] | None = None) -> Iterator[NodeRun]:
    """The ClusterLink clusters of the fabric at `fabric_dir` on local clusters with real nodes: a copy of the
    program and of the fabric (`run.fabric.fabric_dir`, free to edit) in `work_dir` with a state backend of their
    own, every stack up, every platform available and every Peer reachable. Everything started is stopped, and
    everything made removed, on leaving, also on failure (`NodeRun.nodes[...]` hold what each stop left)."""
    from ..runner.fabric import Fabric
    from ..toolchain import copy_program

    project = copy_program(work_dir / "project")
    shutil.copytree(fabric_dir, project / "fabric")
    model = Fabric(project / "fabric", project_dir=project).load()
    nodes = node_clusters(model, work_dir / "clusters", clusters)
    timings: dict[str, float] = {}
    try:
        start_nodes(model, nodes, progress=progress, timings=timings, timeout=timeout)
        fabric = project_fabric(project, {name: node_target(node) for name, node in nodes.items()}, progress)
        started = time.monotonic()
        result = fabric.up(list(nodes))
        if not result.ok:
            raise NodeRunError("the fabric did not come up: " + "; ".join(
                f"{s.stack}: {s.result} {s.message}" for s in result.stacks if not s.ok))
        timings["up"] = time.monotonic() - started
        run = NodeRun(fabric, nodes, timings)
        started = time.monotonic()
        wait_platforms(run, timeout)
        timings["platforms ready"] = time.monotonic() - started
        progress("every platform available, every peer reachable")
        yield run
    finally:
        stop_nodes(nodes)


def project_fabric(project: Path, targets: dict[str, Any] | None = None,
                   progress: Callable[[str], None] = lambda line: None, folder: str = "fabric") -> "Fabric":
    """The fabric `project/folder` with a state backend of the project's own (not the caller's environment's)."""
    from ..runner.fabric import Fabric
    from ..toolchain import pulumi_env

    base = {k: v for k, v in os.environ.items() if k not in (
        "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    return Fabric(project / folder, project_dir=project, env=pulumi_env(project, base), targets=targets,
                  on_event=lambda e: progress(f"{e.stack}: {e.message}") if e.kind == "finished" else None)
