"""Local clusters with a real node: kubelet, containerd and runc, kube-proxy and CoreDNS (root only).

Each cluster is one node in a network namespace of its own (`cfn-<cluster>`): etcd and kube-apiserver (the
`ControlPlane` of apiserver.py, run inside it), kube-controller-manager, kube-scheduler, a containerd of its own
(own root and state under the cluster's folder, its socket in /run/clusterfabric; `restrict_oom_score_adj`, as root here lacks
CAP_SYS_RESOURCE; the sandbox image is the local pause image), a kubelet (own root directory and cgroup root
`/cfn-<cluster>` in every cgroup v1 hierarchy, `failCgroupV1: false`), kube-proxy in nftables mode, and CoreDNS
as a Deployment behind `kube-dns`. Pods get addresses from the CNI bridge and host-local plugins on the node's
own pod range; Services from its own service range (`NodeNetwork.ranges`), so two clusters never share one.

The nodes meet on one private network: a hub namespace (`cfn-hub`) holding a bridge, each node's `eth0` a veth
into it, node addresses on 10.250.0.0/16. Nothing is attached to the host's interfaces: the host reaches an API
server through a loopback port (forward.py, a process of its own), never by a route.

The ingress of a ClusterLink gateway maps here as follows:
- LoadBalancer (the default): the node runs a load balancer controller (loadbalancer.py, a process). The Service's
  `status.loadBalancer.ingress` gets the cluster's gateway address (10.250.1.<n>, an address of its node), which
  kube-proxy then forwards at the Service's port to the data plane; every cluster's CoreDNS resolves the
  cluster's `gateway.host` of fabric.yaml to that address.
- NodePort: the gateway host resolves to the node's address, and kube-proxy serves the node port there.
- ClusterIP: not reachable from another cluster (nothing here routes to a service range), as in Kubernetes.

Images are made from local binaries and imported (images.py); nothing is pulled. Every process is started in the
node's namespace with `nsenter --net` (the host's mount namespace: containerd must see the kubelet's volume
mounts) and stopped by PID; `stop` also removes the pods' sandboxes and namespaces, unmounts what is left under
the cluster's folder, removes the cgroups, the namespaces and restores the sysctls the kubelet changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from clusterfabric.components.clusterlink.certificates import issue

from . import images
from ..runner.processes import alive, terminate
from .apiserver import ControlPlane, _free_port, spawn, wait_for_process
from .kubeapi import ControlPlaneError, KubeClient, KubeError
from .netns import NETNS_DIR, in_namespace, ip
from ..toolchain import PROJECT_DIR, write_private

TOOLS = PROJECT_DIR / ".tools" / "bin"
HUB = "cfn-hub"
HUB_BRIDGE = "cfnhub0"
NODE_NETWORK = "10.250.0.0/16"
API_PORT = 6443
CNI_BIN = Path("/usr/lib/cni")
NODE_BINARIES = ("kubelet", "kube-proxy", "kube-controller-manager", "kube-scheduler", "coredns")
KUBELET_SYSCTLS = ("kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory")
"""Host settings the kubelet changes at start (its defaults for a node); restored on stop."""
HOST_PATHS = ("/var/log/pods", "/var/log/containers", "/var/lib/kubelet", "/var/lib/cni", "/run/containerd")
"""Host folders a kubelet or containerd uses whatever it is told (pod log links, the device plugins' socket, the
CNI result cache, the shims' sockets): removed on stop when the nodes made them, else cleared of the nodes' files."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
SOCKETS = Path("/run/clusterfabric")
"""Where each node's containerd socket is (a folder per node, removed on stop; SOCKETS too once empty)."""
READY_TIMEOUT = 180.0
DNS_NAMESPACE = "kube-system"
NODE_PROCESSES = ("containerd_pid", "controller_manager_pid", "scheduler_pid", "kubelet_pid", "proxy_pid",
                  "loadbalancer_pid")
"""A node's processes beside its control plane's, by their key in its state file."""


class NodeError(ControlPlaneError):
    """A node could not be brought up; the message says which part and shows its log's end."""


def node_binaries() -> dict[str, Path]:
    found = {name: TOOLS / name for name in NODE_BINARIES}
    missing = [name for name, path in found.items() if not os.access(path, os.X_OK)]
    for command in ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "nsenter", "nft"):
        if not shutil.which(command):
            missing.append(command)
    if not (CNI_BIN / "bridge").exists():
        missing.append("containernetworking-plugins")
    if missing:
        raise NodeError(f"{', '.join(missing)} not found: run scripts/setup")
    return found


@dataclass(frozen=True)
class Ranges:
    """A cluster's addresses: its node's, its gateway's, its pods' and its Services'."""

    index: int

    @property
    def node(self) -> str:
        return f"10.250.0.{10 + self.index}"

    @property
    def gateway(self) -> str:
        return f"10.250.1.{10 + self.index}"

    @property
    def pods(self) -> str:
        return f"10.{200 + self.index}.0.0/16"

    @property
    def services(self) -> str:
        return f"10.{220 + self.index}.0.0/16"

    @property
    def kubernetes_service(self) -> str:
        return f"10.{220 + self.index}.0.1"

    @property
    def dns(self) -> str:
        return f"10.{220 + self.index}.0.10"


def nsenter(namespace: str, argv: list[str]) -> list[str]:
    return ["nsenter", f"--net={NETNS_DIR / namespace}", "--", *argv]


def run(argv: list[str], timeout: float = 60) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise NodeError(f"{' '.join(argv)}: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _add_namespace(name: str) -> None:
    if not (NETNS_DIR / name).exists():
        ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")


def _delete_namespace(name: str) -> None:
    if (NETNS_DIR / name).exists():
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=30)


def hub_up() -> None:
    """The hub namespace and its bridge (shared by every node; made once)."""
    _add_namespace(HUB)
    if HUB_BRIDGE not in ip("-n", HUB, "-o", "link", "show"):
        ip("-n", HUB, "link", "add", HUB_BRIDGE, "type", "bridge")
        ip("-n", HUB, "link", "set", HUB_BRIDGE, "up")


def hub_down() -> None:
    """The hub goes when no node namespace is left."""
    if not any(path.name.startswith("cfn-") and path.name != HUB for path in NETNS_DIR.glob("cfn-*")):
        _delete_namespace(HUB)


class NodeControlPlane(ControlPlane):
    """A `ControlPlane` run inside a node's namespace: the API server listens on the node's address (what pods
    reach through the `kubernetes` Service), and the host reaches it through a forwarding process at
    127.0.0.1:`apiserver_port`."""

    def __init__(self, name: str, directory: Path, ranges: Ranges):
        super().__init__(name, directory)
        self.ranges = ranges

    @property
    def namespace(self) -> str:
        return f"cfn-{self.name}"

    def _spawn(self, log: str, argv: list[str]) -> int:
        return super()._spawn(log, nsenter(self.namespace, argv))

    def start(self, timeout: float = 120.0) -> "NodeControlPlane":
        state = self._state()
        if not state:
            state = {"etcd_port": 2379, "peer_port": 2380, "apiserver_port": _free_port()}
            self._save(state)
        if not alive(state.get("forward_pid")):
            with open(self.directory / "forward.log", "ab") as out:
                state["forward_pid"] = subprocess.Popen(
                    [sys.executable, "-m", "clusterfabric.local.forward", self.namespace, str(state["apiserver_port"]),
                     self.ranges.node, str(API_PORT)], stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=PROJECT_DIR).pid
            self._save(state)
        super().start(timeout)
        return self

    def stop(self) -> None:
        super().stop()
        self._terminate("forward_pid")

    def running(self) -> bool:
        return super().running() and alive(self._state().get("forward_pid"))

    def _etcd_healthy(self, port: int) -> bool:  # type: ignore[override]
        def probe() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                return json.loads(response.read()).get("health") == "true"
        try:
            return in_namespace(self.namespace, probe)
        except (OSError, ValueError):
            return False

    def _server_addresses(self) -> list[str]:
        return ["127.0.0.1", self.ranges.node, self.ranges.kubernetes_service]

    def _apiserver_args(self, state: dict[str, Any]) -> list[str]:
        pki = self.directory / "pki"
        replaced = {"--bind-address": "0.0.0.0", "--advertise-address": self.ranges.node,
                    "--secure-port": str(API_PORT), "--service-cluster-ip-range": self.ranges.services}
        args = [f"{arg.split('=')[0]}={replaced[arg.split('=')[0]]}" if arg.split("=")[0] in replaced else arg
                for arg in super()._apiserver_args(state)]
        return [*args, f"--kubelet-client-certificate={pki / 'admin.crt'}", f"--kubelet-client-key={pki / 'admin.key'}",
                "--kubelet-preferred-address-types=InternalIP,Hostname", "--endpoint-reconciler-type=lease"]

    def node_kubeconfig(self) -> Path:
        """The admin kubeconfig as the node's components use it: the API server at the node's address."""
        path = self.directory / "node-kubeconfig"
        config = json.loads(self.kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = f"https://{self.ranges.node}:{API_PORT}"
        write_private(path, json.dumps(config, indent=2))
        return path


@dataclass
class Node:
    """One cluster's node: its control plane (`plane`) and the node's own processes (see module doc)."""

    plane: NodeControlPlane
    gateway_hosts: dict[str, str]
    """Host name -> address every cluster's CoreDNS answers (the clusters' gateway hosts)."""
    problems: list[str] = field(default_factory=list)
    """What the last `stop` could not remove (empty when clean)."""

    @property
    def name(self) -> str:
        return self.plane.name

    @property
    def ranges(self) -> Ranges:
        return self.plane.ranges

    @property
    def namespace(self) -> str:
        return self.plane.namespace

    @property
    def directory(self) -> Path:
        return self.plane.directory / "node"

    @property
    def socket(self) -> Path:
        """containerd's socket: in a folder of /run named by the cluster's folder, as a unix socket's path is short
        (at most 107 bytes, and containerd adds `.ttrpc`), while the cluster's folder may be deep."""
        digest = hashlib.sha256(str(self.directory.resolve()).encode()).hexdigest()[:16]
        return SOCKETS / digest / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        """The kubelet's --root-dir: a link beside the socket to the node's `kubelet` folder. The kubelet binds
        unix sockets below its root (pod-resources, plugins), which fail past 107 bytes of path and end the
        kubelet; the link keeps them short however deep the cluster's folder is. The mounts it makes resolve
        through the link, so they show (and are unmounted) under the cluster's folder."""
        return self.socket.parent / "kubelet"

    @property
    def cgroup(self) -> str:
        return f"cfn-{self.name}"

    def client(self) -> KubeClient:
        return self.plane.client()

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads((self.directory / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        write_private(self.directory / "state.json", json.dumps(state, indent=2))

    # --- start --------------------------------------------------------------------------------------------

    def start(self, extra_images: list[images.Image], timeout: float = READY_TIMEOUT,
              timings: dict[str, float] | None = None, host: dict[str, Any] | None = None) -> "Node":
        """Start what is not running and wait until the node is Ready. `host`: the host as it was before any node
        started (`host_state()`), what the last node's `stop` restores (default: as it is now)."""
        found = node_binaries()
        timings = timings if timings is not None else {}
        clock = time.monotonic()

        def lap(what: str) -> None:
            nonlocal clock
            now = time.monotonic()
            timings[what] = timings.get(what, 0.0) + now - clock
            clock = now

        self.directory.mkdir(parents=True, exist_ok=True)
        state = self._state()
        if not alive(state.get("kubelet_pid")):  # a fresh start: the host as it is now (a stopped node's is stale)
            state.update(host=host or host_state(), netns_before=sorted(p.name for p in NETNS_DIR.glob("cni-*")),
                         sandbox_netns=[])
        self._save(state)
        self._network()
        self._cgroups()
        lap("network")
        self.plane.directory.mkdir(parents=True, exist_ok=True)
        self.plane.start()
        lap("control plane")
        kubeconfig = self.plane.node_kubeconfig()
        self._write_configs()
        state = self._state()
        if not alive(state.get("containerd_pid")):
            state["containerd_pid"] = self._spawn("containerd", ["containerd", "--config",
                                                                 str(self.directory / "containerd.toml")])
            self._save(state)
        self._wait(lambda: self.socket.exists() and self._ctr("version", check=False), 30, "containerd",
                   state["containerd_pid"])
        lap("containerd")
        self._import(images.project_images() + extra_images)
        lap("images")
        pki = self.plane.directory / "pki"
        manager = [str(found["kube-controller-manager"]), f"--kubeconfig={kubeconfig}",
                   f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                   f"--service-account-private-key-file={pki / 'service-accounts.key'}",
                   f"--root-ca-file={pki / 'ca.crt'}", f"--cluster-name={self.name}", "--leader-elect=false",
                   "--use-service-account-credentials=false", f"--service-cluster-ip-range={self.ranges.services}",
                   "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route", "-v=1"]
        scheduler = [str(found["kube-scheduler"]), f"--kubeconfig={kubeconfig}",
                     f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
                     "--leader-elect=false", "-v=1"]
        kubelet = [str(found["kubelet"]), f"--config={self.directory / 'kubelet.yaml'}", f"--kubeconfig={kubeconfig}",
                   f"--root-dir={self.kubelet_root}", f"--hostname-override={self.name}",
                   f"--node-ip={self.ranges.node}", f"--cert-dir={self.directory / 'kubelet-pki'}", "-v=1"]
        proxy = [str(found["kube-proxy"]), f"--config={self.directory / 'kube-proxy.yaml'}", "-v=1"]
        for key, argv in (("controller_manager_pid", manager), ("scheduler_pid", scheduler), ("kubelet_pid", kubelet),
                          ("proxy_pid", proxy)):
            state = self._state()
            if not alive(state.get(key)):
                state[key] = self._spawn(key.removesuffix("_pid"), argv)
                self._save(state)
        self._wait(self._node_ready, timeout, "kubelet", self._state()["kubelet_pid"])
        lap("node ready")
        self._dns()
        state = self._state()
        if not alive(state.get("loadbalancer_pid")):  # on the host: it reaches the API server as the host does
            state["loadbalancer_pid"] = spawn(self.directory, "loadbalancer", [
                sys.executable, "-m", "clusterfabric.local.loadbalancer", str(self.plane.kubeconfig),
                self.ranges.gateway])
            self._save(state)
        return self

    def running(self) -> bool:
        """Whether every process of the cluster runs (its control plane's, its node's, its load balancer)."""
        state = self._state()
        return self.plane.running() and all(alive(state.get(key)) for key in NODE_PROCESSES)

    def _spawn(self, log: str, argv: list[str]) -> int:
        return spawn(self.directory, log, nsenter(self.namespace, argv))

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str, pid: int) -> None:
        wait_for_process(ready, timeout, f"{self.name}: {what}", self.directory / f"{what.replace('-', '_')}.log", pid,
                         NodeError)

    def _ctr(self, *args: str, check: bool = True) -> bool:
        result = subprocess.run(["ctr", "--address", str(self.socket), "-n", "k8s.io", *args], capture_output=True,
                                text=True, timeout=120)
        if check and result.returncode != 0:
            raise NodeError(f"ctr {' '.join(args)}: {(result.stderr or result.stdout).strip()}")
        return result.returncode == 0

    def _import(self, wanted: list[images.Image]) -> None:
        for image in wanted:
            self._ctr("images", "import", "--no-unpack=false", str(images.archive(image, images.CACHE)))

    def _node_ready(self) -> bool:
        try:
            node = self.client().get(f"/api/v1/nodes/{self.name}")
        except (KeyError, KubeError, OSError):
            return False
        return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

    # --- configuration ------------------------------------------------------------------------------------

    def _network(self) -> None:
        hub_up()
        _add_namespace(self.namespace)
        hub_end, node_end = f"cfn{self.ranges.index}h", f"cfn{self.ranges.index}n"
        if "eth0" not in ip("-n", self.namespace, "-o", "link", "show"):
            ip("link", "add", hub_end, "netns", HUB, "type", "veth", "peer", "name", node_end, "netns", self.namespace)
            ip("-n", HUB, "link", "set", hub_end, "master", HUB_BRIDGE, "up")
            ip("-n", self.namespace, "link", "set", node_end, "name", "eth0")
            ip("-n", self.namespace, "addr", "add", f"{self.ranges.node}/16", "dev", "eth0")
            ip("-n", self.namespace, "addr", "add", f"{self.ranges.gateway}/32", "dev", "eth0")
            ip("-n", self.namespace, "link", "set", "eth0", "up")
            ip("-n", self.namespace, "route", "add", "default", "dev", "eth0")
        for setting in ("net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1",
                        "net.ipv4.conf.all.route_localnet=1"):
            run(nsenter(self.namespace, ["sysctl", "-q", "-w", setting]))

    def _cgroups(self) -> None:
        """The kubelet's cgroup root, made beforehand in every v1 hierarchy (cpuset's values from its parent)."""
        for hierarchy in _hierarchies():
            path = hierarchy / self.cgroup
            path.mkdir(exist_ok=True)
            if hierarchy.name == "cpuset":
                for value in ("cpuset.cpus", "cpuset.mems"):
                    (path / value).write_text((hierarchy / value).read_text())

    def _write_configs(self) -> None:
        pki = self.plane.directory / "pki"
        directory = self.directory
        (directory / "cni").mkdir(exist_ok=True)
        serving = directory / "kubelet-pki"
        if not (serving / "kubelet.key").exists():
            ca = (pki / "ca.crt").read_text(), (pki / "ca.key").read_text()
            cert = issue(f"system:node:{self.name}", 365, False, ca[0], ca[1], dns_names=[self.name],
                         ip_addresses=[self.ranges.node])
            write_private(serving / "kubelet.crt", cert["cert_pem"])
            write_private(serving / "kubelet.key", cert["key_pem"])
        containerd = directory / "containerd"
        self.socket.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / "kubelet").mkdir(exist_ok=True)
        if not self.kubelet_root.is_symlink():
            self.kubelet_root.symlink_to(directory / "kubelet")
        (directory / "containerd.toml").write_text(f"""version = 2
root = "{containerd / 'root'}"
state = "{containerd / 'state'}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{self.socket}"
[ttrpc]
  address = "{self.socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{images.PAUSE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "{containerd / 'runc'}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{directory / 'cni'}"
""")
        (directory / "cni" / "10-clusterfabric.conflist").write_text(json.dumps({
            "cniVersion": "0.4.0", "name": f"cfn-{self.name}",
            "plugins": [{"type": "bridge", "bridge": "cni0", "isGateway": True, "ipMasq": True, "hairpinMode": True,
                         "ipam": {"type": "host-local", "dataDir": str(directory / "ipam"),
                                  "ranges": [[{"subnet": self.ranges.pods.replace(".0.0/16", ".0.0/24")}]],
                                  "routes": [{"dst": "0.0.0.0/0"}]}},
                        {"type": "portmap", "capabilities": {"portMappings": True}}],
        }, indent=2))
        resolv = directory / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")  # the node's own: no DNS beyond the cluster's
        (directory / "kubelet.yaml").write_text(json.dumps({
            "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "failCgroupV1": False, "cgroupDriver": "cgroupfs", "cgroupRoot": f"/{self.cgroup}",
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": False},
                               "x509": {"clientCAFile": str(pki / "ca.crt")}},
            "authorization": {"mode": "AlwaysAllow"},
            "clusterDNS": [self.ranges.dns], "clusterDomain": "cluster.local", "resolvConf": str(resolv),
            "tlsCertFile": str(serving / "kubelet.crt"), "tlsPrivateKeyFile": str(serving / "kubelet.key"),
            "address": self.ranges.node, "readOnlyPort": 0, "healthzBindAddress": "127.0.0.1",
            "failSwapOn": False, "protectKernelDefaults": False, "serializeImagePulls": False,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                             "nodefs.inodesFree": "1%"},
            "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
            "podPidsLimit": -1, "maxPods": 50, "syncFrequency": "10s", "fileCheckFrequency": "10s",
            "localStorageCapacityIsolation": False, "shutdownGracePeriod": "0s",
            "podLogsDir": str(directory / "pod-logs"),
        }, indent=2))
        (directory / "kube-proxy.yaml").write_text(json.dumps({
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
            "mode": "nftables", "clusterCIDR": self.ranges.pods, "hostnameOverride": self.name,
            "bindAddress": self.ranges.node, "healthzBindAddress": "127.0.0.1:10256",
            "metricsBindAddress": "127.0.0.1:10249",
            "clientConnection": {"kubeconfig": str(self.plane.directory / "node-kubeconfig")},
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        }, indent=2))

    def _dns(self) -> None:
        """CoreDNS as a Deployment in kube-system behind `kube-dns` at the cluster's DNS address, answering the
        gateway hosts too."""
        client = self.client()
        hosts = "\n".join(f"      {address} {host}" for host, address in sorted(self.gateway_hosts.items()))
        corefile = (".:53 {\n    errors\n    health\n    ready\n    hosts {\n" + hosts + "\n      fallthrough\n    }\n"
                    "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n"
                    "      fallthrough in-addr.arpa ip6.arpa\n    }\n    cache 5\n}\n")
        labels = {"k8s-app": "kube-dns"}
        for doc in dns_objects(corefile, self.ranges.dns, labels):
            client.apply(doc)

    # --- stop ---------------------------------------------------------------------------------------------

    def stop(self, grace: float = 20.0) -> list[str]:
        """Stop everything, remove the pods' sandboxes, namespaces, mounts, cgroups, and restore the sysctls.
        Returns what could not be removed (empty when clean)."""
        problems: list[str] = []
        state = self._state()
        if not state:  # never started from this folder: the namespaces of its name may be another folder's nodes'
            return problems
        for key in ("loadbalancer_pid", "controller_manager_pid", "scheduler_pid"):
            terminate(state.get(key), grace)
        self._remove_pods(state)
        for key in ("kubelet_pid", "proxy_pid"):
            terminate(state.get(key), grace)
        if self.socket.exists() and alive(state.get("containerd_pid")):
            state["sandbox_netns"] = self._sandbox_namespaces()
            self._save(state)
            self._remove_containers()
        self._kill_shims()
        terminate(state.get("containerd_pid"), grace)
        shutil.rmtree(self.socket.parent, ignore_errors=True)
        if SOCKETS.is_dir() and not any(SOCKETS.iterdir()):
            SOCKETS.rmdir()
        self.plane.stop()
        problems += self._unmount()
        problems += self._remove_cgroups()
        before = set(state.get("netns_before", []))
        for path in NETNS_DIR.glob("cni-*"):
            if path.name not in before and (path.name in state.get("sandbox_netns", [])
                                            or _namespace_of(path.name, self.ranges.pods)):
                _delete_namespace(path.name)
        _delete_namespace(self.namespace)
        hub_down()
        if not (NETNS_DIR / HUB).exists():  # the last node: no kubelet is left to change the host again
            problems += restore_host(state.get("host", {}))
        for key in NODE_PROCESSES:
            state.pop(key, None)
        self._save(state)
        return problems

    def _remove_pods(self, state: dict[str, Any]) -> None:
        """Every pod deleted at once, with no grace, while the kubelet runs: it stops their sandboxes (and the CNI
        plugins free their addresses and namespaces). Bounded: 30 s."""
        if not (alive(state.get("kubelet_pid")) and self.plane.running()):
            return
        client = self.client()
        try:
            pods = client.get("/api/v1/pods").get("items", [])
            for pod in pods:
                meta = pod["metadata"]
                try:
                    client.request("DELETE", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                                   {"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0})
                except KeyError:
                    pass
        except (KubeError, OSError):
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self._sandboxes():
            time.sleep(0.5)

    def _sandboxes(self) -> list[str]:
        result = subprocess.run(["ctr", "--address", str(self.socket), "-n", "k8s.io", "tasks", "ls", "-q"],
                                capture_output=True, text=True, timeout=30)
        return result.stdout.split() if result.returncode == 0 else []

    def _sandbox_namespaces(self) -> list[str]:
        """The network namespaces of this node's pod sandboxes, as its containerd holds them (a sandbox stopped
        without the kubelet keeps its namespace, by then maybe without an address to tell whose it is)."""
        found = []
        listed = subprocess.run(["ctr", "--address", str(self.socket), "-n", "k8s.io", "containers", "ls", "-q"],
                                capture_output=True, text=True, timeout=30)
        for container in listed.stdout.split() if listed.returncode == 0 else []:
            info = subprocess.run(["ctr", "--address", str(self.socket), "-n", "k8s.io", "containers", "info",
                                   container], capture_output=True, text=True, timeout=30)
            try:
                spaces = json.loads(info.stdout)["Spec"]["linux"]["namespaces"]
            except (ValueError, KeyError, TypeError):
                continue
            found += [Path(n["path"]).name for n in spaces if n.get("type") == "network"
                      and Path(n.get("path", "")).parent in (NETNS_DIR, Path("/var/run/netns"))]
        return sorted(set(found))

    def _remove_containers(self) -> None:
        for task in self._sandboxes():
            self._ctr("tasks", "kill", "-a", "-s", "SIGKILL", task, check=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._sandboxes():
            for task in self._sandboxes():
                self._ctr("tasks", "delete", "-f", task, check=False)
            time.sleep(0.2)

    def _kill_shims(self) -> None:
        """The runc shims this node's containerd started (found by its socket in their command line), by PID."""
        for pid in _pids_with_argument(str(self.socket)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _unmount(self) -> list[str]:
        left = []
        for point in sorted(_mounts_under(self.plane.directory), key=len, reverse=True):
            result = subprocess.run(["umount", "-l", point], capture_output=True, text=True, timeout=30)
            if result.returncode != 0:
                left.append(f"mount {point}: {result.stderr.strip()}")
        return left

    def _remove_cgroups(self) -> list[str]:
        left = []
        for hierarchy in _hierarchies():
            root = hierarchy / self.cgroup
            if not root.exists():
                continue
            for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                                    reverse=True) + [root]:
                for attempt in range(50):
                    try:
                        directory.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        for pid in (directory / "cgroup.procs").read_text().split() if (directory / "cgroup.procs").exists() else []:
                            try:
                                os.kill(int(pid), signal.SIGKILL)
                            except ProcessLookupError:
                                pass
                        time.sleep(0.1)
                else:
                    left.append(f"cgroup {directory}")
        return left


def leftovers(nodes: list[Node]) -> list[str]:
    """What of `nodes` is still there after their `stop`: processes (naming a node's folder in their command line),
    network namespaces (the nodes', the hub, their pods'), a kube-proxy nftables table in the host's own namespace,
    cgroups, mounts under a node's folder, and the kubelet's sysctls not as they were before the start."""
    found = []
    for node in nodes:
        folder = str(node.plane.directory)
        for pid in _pids_naming(folder):
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"process {pid}: {command[:200]}")
        if (NETNS_DIR / node.namespace).exists():
            found.append(f"network namespace {node.namespace}")
        if node.socket.parent.exists():
            found.append(f"containerd socket folder {node.socket.parent}")
        sandboxes = set(node._state().get("sandbox_netns", []))
        found += [f"network namespace {p.name}" for p in NETNS_DIR.glob("cni-*")
                  if p.name in sandboxes or _namespace_of(p.name, node.ranges.pods)]
        found += [f"cgroup {h / node.cgroup}" for h in _hierarchies() if (h / node.cgroup).exists()]
        found += [f"mount {point}" for point in _mounts_under(node.plane.directory)]
        found += _host_changes(node._state().get("host", {}))
    if (NETNS_DIR / HUB).exists():
        found.append(f"network namespace {HUB}")
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=30).stdout
    found += [f"nftables table of the host: {line}" for line in tables.splitlines() if "kube-proxy" in line]
    return found


def host_state() -> dict[str, Any]:
    """What the nodes change on the host, as it is now: the kubelet's sysctls, and which HOST_PATHS are absent."""
    return {"sysctls": {name: _sysctl(name) for name in KUBELET_SYSCTLS},
            "absent": [path for path in HOST_PATHS if not os.path.lexists(path)]}


def _ours(path: Path) -> bool:
    """A file the nodes left in a host folder that was there before: a pod's log link into a node's folder, the CNI
    plugins' cached result of a node's network (named cfn-...)."""
    if path.parent == Path("/var/log/containers"):
        return path.is_symlink() and "/node/pod-logs/" in os.readlink(path)
    return path.parent == Path("/var/lib/cni/results") and path.name.startswith("cfn-")


def _host_changes(host: dict[str, Any]) -> list[str]:
    found = [f"sysctl {name} = {_sysctl(name)}, was {value}" for name, value in host.get("sysctls", {}).items()
             if _sysctl(name) != value]
    found += [f"host folder {path} (made by the nodes)" for path in host.get("absent", []) if os.path.lexists(path)]
    for folder in ("/var/log/containers", "/var/lib/cni/results"):
        if os.path.isdir(folder) and folder not in host.get("absent", []):
            found += [f"host file {entry}" for entry in Path(folder).iterdir() if _ours(entry)]
    return found


def restore_host(host: dict[str, Any]) -> list[str]:
    """The host as `host_state()` found it; what could not be restored."""
    for name, value in host.get("sysctls", {}).items():
        if _sysctl(name) != value:
            run(["sysctl", "-q", "-w", f"{name}={value}"])
    for path in host.get("absent", []):
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)
    for folder in ("/var/log/containers", "/var/lib/cni/results"):
        if os.path.isdir(folder):
            for entry in Path(folder).iterdir():
                if _ours(entry):
                    entry.unlink()
    return _host_changes(host)


def dns_objects(corefile: str, address: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """CoreDNS's objects: its account and read access, its Corefile, the Deployment and the `kube-dns` Service."""
    ns, name = DNS_NAMESPACE, "coredns"
    meta = {"name": name, "namespace": ns, "labels": labels}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:coredns"},
         "rules": [{"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
                    "verbs": ["list", "watch"]},
                   {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "system:coredns"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"Corefile": corefile}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": labels},
             "spec": {"serviceAccountName": name, "dnsPolicy": "Default", "containers": [{
                 "name": "coredns", "image": images.COREDNS, "imagePullPolicy": "IfNotPresent",
                 "args": ["-conf", "/etc/coredns/Corefile"],
                 "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
                 "ports": [{"containerPort": 53, "protocol": "UDP", "name": "dns"},
                           {"containerPort": 53, "protocol": "TCP", "name": "dns-tcp"}],
                 "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2}}],
                 "volumes": [{"name": "config", "configMap": {"name": name}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": ns, "labels": labels},
         "spec": {"clusterIP": address, "selector": labels,
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}},
    ]


def _sysctl(name: str) -> str:
    return Path("/proc/sys", *name.split(".")).read_text().strip()


def _hierarchies() -> list[Path]:
    """The cgroup hierarchies: each v1 one mounted (links to them left out), the unified one of a hybrid host too."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return [CGROUP_ROOT]
    return sorted(p for p in CGROUP_ROOT.iterdir() if p.is_dir() and not p.is_symlink())


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory.resolve()) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            points.append(point)
    return points


def _pids_naming(path: str) -> list[int]:
    """Processes whose command line names `path` or a path below it."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            try:
                if path in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _pids_with_argument(argument: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if argument in (proc / "cmdline").read_bytes().decode(errors="replace").split("\0"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _namespace_of(name: str, pods: str) -> bool:
    """Whether the `cni-` namespace `name` is one of this node's pods' (an address in its pod range)."""
    prefix = pods.split(".0.0/")[0] + "."
    result = subprocess.run(["ip", "-n", name, "-o", "-4", "addr", "show"], capture_output=True, text=True, timeout=30)
    return f"inet {prefix}" in result.stdout
