"""A Deployment's pod run as a local process that sees what its Pod would (root only).

No kubelet runs on the local control planes, so a pod of a Deployment the
fabric declared is run here by hand, from the object the API server holds:

- the container's `args` and `env` (values, and `fieldRef` to the pod's
  namespace, name and IP), its image's binary from `.tools/bin`;
- each `volumeMount` of a Secret volume as files at its mount path (one key with
  `subPath`, every key otherwise), read from the API server: a tmpfs over
  `/etc/ssl` and `/run` in a private mount namespace holds them, so the host's
  files are never touched. A whole Secret is laid out as the kubelet's atomic
  writer does (each key a link through `..data` to a hidden directory), and
  `update_volume` swaps in new contents as the kubelet does when the Secret
  changes: all files at once, by renaming `..data` (a subPath mount, as in
  Kubernetes, never changes in a running pod);
- a token of the pod's ServiceAccount (TokenRequest) with the API server's CA
  and the namespace, at `/var/run/secrets/kubernetes.io/serviceaccount`, and
  `KUBERNETES_SERVICE_HOST/PORT` leading to the API server through a loopback
  port of the pod's network namespace: the API server enforces the pod's RBAC;
- its own network namespace (`netns.PodNetwork`), and an `/etc/hosts` naming the
  Services it dials.

A pod runs as one process (`ip netns exec` -> `sh` -> the binary, one PID) in a
session of its own; `stop` ends it by that PID's group.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .kubeapi import KubeClient
from .netns import PodNetwork
from ..toolchain import PROJECT_DIR

if TYPE_CHECKING:
    from .apiserver import ControlPlane

TOOLS = PROJECT_DIR / ".tools" / "bin"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
API_PORT_IN_POD = 6443
# Directories a pod's files may be mounted under; each is a fresh tmpfs in the pod's mount namespace.
MOUNT_ROOTS = ("/etc/ssl", os.path.realpath("/var/run"))


class PodError(RuntimeError):
    """A pod could not be run locally; the message says which and why."""


@dataclass
class PodSpec:
    """What one pod needs, read from the API server: its binary, arguments, environment and files."""

    name: str
    namespace: str
    binary: Path
    args: list[str]
    env: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    """Absolute path in the pod -> content."""
    labels: dict[str, str] = field(default_factory=dict)
    """The pod's labels (a Deployment's pod template's)."""
    secret_volumes: dict[str, str] = field(default_factory=dict)
    """Mount path -> name of each Secret mounted whole: the kubelet keeps those files in line with the Secret."""

    def replace_files(self, files: dict[str, bytes]) -> None:
        """Run with these files instead (to try the pod with others); a Secret volume they replace files of is no
        longer kept in line with its Secret."""
        self.files.update(files)
        self.secret_volumes = {mount: secret for mount, secret in self.secret_volumes.items()
                               if not any(os.path.dirname(path) == mount for path in files)}


def binary_of(image: str, tools: Path = TOOLS) -> Path:
    """The local build of a container image's program: `ghcr.io/clusterlink-net/cl-controlplane:v0.4.1` runs
    `.tools/bin/cl-controlplane`."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    path = tools / name
    if not os.access(path, os.X_OK):
        raise PodError(f"no local build of image {image!r} ({path}): scripts/setup builds the ClusterLink binaries "
                       "(cl-controlplane, cl-go-dataplane); the Envoy data plane cannot run here")
    return path


def _secret_files(client: KubeClient, namespace: str, volume: dict[str, Any], mount: dict[str, Any]) -> dict[str, bytes]:
    source = volume.get("secret")
    if source is None or source.get("items"):
        raise PodError(f"volume {volume['name']!r}: only Secret volumes without `items` can be mounted locally")
    secret = client.read("v1", "Secret", source["secretName"], namespace)
    data = {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}
    path = mount["mountPath"]
    if mount.get("subPath"):
        if mount["subPath"] not in data:
            raise PodError(f"Secret {namespace}/{source['secretName']} has no key {mount['subPath']!r} "
                           f"(mounted at {path})")
        return {path: data[mount["subPath"]]}
    return {f"{path.rstrip('/')}/{key}": value for key, value in data.items()}


def _service_account_files(client: KubeClient, namespace: str, account: str, ca_pem: bytes) -> dict[str, bytes]:
    if account == "default":
        # What the ServiceAccount controller does in every namespace (no controller manager runs here).
        client.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default",
                                                                               "namespace": namespace}})
    token = client.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600},
    })["status"]["token"]
    return {f"{SERVICE_ACCOUNT_DIR}/token": token.encode(), f"{SERVICE_ACCOUNT_DIR}/ca.crt": ca_pem,
            f"{SERVICE_ACCOUNT_DIR}/namespace": namespace.encode()}


def _env(container: dict[str, Any], fields: dict[str, str]) -> dict[str, str]:
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        field_path = (var.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
        if field_path not in fields:
            raise PodError(f"env {var['name']!r}: only values and fieldRef to {', '.join(sorted(fields))} "
                           "are supported locally")
        env[var["name"]] = fields[field_path]
    return env


def pod_spec(client: KubeClient, ca_pem: bytes, namespace: str, deployment: str, pod_name: str,
             pod_ip: str, tools: Path = TOOLS) -> PodSpec:
    """The pod of Deployment `namespace/deployment`, as the API server holds it."""
    pod_template = client.read("apps/v1", "Deployment", deployment, namespace)["spec"]["template"]
    template = pod_template["spec"]
    if len(template["containers"]) != 1 or template.get("initContainers"):
        raise PodError(f"Deployment {namespace}/{deployment}: only pods of one container run locally")
    container = template["containers"][0]
    volumes = {v["name"]: v for v in template.get("volumes", [])}
    files: dict[str, bytes] = {}
    secret_volumes: dict[str, str] = {}
    for mount in container.get("volumeMounts", []):
        files.update(_secret_files(client, namespace, volumes[mount["name"]], mount))
        if not mount.get("subPath"):
            secret_volumes[mount["mountPath"].rstrip("/")] = volumes[mount["name"]]["secret"]["secretName"]
    if template.get("automountServiceAccountToken", True):
        account = template.get("serviceAccountName") or "default"
        files.update(_service_account_files(client, namespace, account, ca_pem))
    fields = {"metadata.namespace": namespace, "metadata.name": pod_name, "status.podIP": pod_ip}
    return PodSpec(pod_name, namespace, binary_of(container["image"], tools), list(container.get("args", [])),
                   _env(container, fields), files, dict(pod_template["metadata"].get("labels", {})), secret_volumes)


def _mount_root(path: str) -> str:
    resolved = os.path.realpath(os.path.dirname(path))
    for root in MOUNT_ROOTS:
        if resolved == root or resolved.startswith(root + "/"):
            return root
    raise PodError(f"{path}: the local runner mounts files under {' and '.join(MOUNT_ROOTS)} only")


def _in_pod(path: str) -> str:
    """Where `path` is in the pod's mount namespace, its directory's links resolved (/var/run is /run)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _atomic_volume(mount: str, sources: dict[str, Path], generation: int) -> list[str]:
    """Shell lines writing a Secret volume as the kubelet's atomic writer does: the files into a new hidden
    directory, `..data` pointed at it by a rename (a reader, such as ClusterLink's certificate watcher, sees all
    old files or all new ones), each key a link through `..data`, the previous directory removed."""
    volume, new = shlex.quote(_in_pod(mount)), f"..{generation}"
    lines = [f"mkdir -p {volume}/{new}"]
    lines += [f"cp {shlex.quote(str(source))} {volume}/{new}/{shlex.quote(key)}" for key, source in sorted(sources.items())]
    lines += [f"ln -sfn {new} {volume}/..data_tmp", f"mv -T {volume}/..data_tmp {volume}/..data"]
    lines += [f"ln -sfn ..data/{shlex.quote(key)} {volume}/{shlex.quote(key)}" for key in sorted(sources)]
    if generation:
        lines.append(f"rm -rf {volume}/..{generation - 1}")
    return lines


def _script(spec: PodSpec, directory: Path) -> str:
    """The shell that sets up the pod's mount namespace, then becomes the pod's program."""
    lines = ["set -eu"]
    for root in sorted({_mount_root(path) for path in spec.files}):
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs {shlex.quote(root)}")
    sources = {path: directory / "files" / str(index) for index, path in enumerate(sorted(spec.files))}
    for mount in sorted(spec.secret_volumes):
        lines += _atomic_volume(mount, {os.path.basename(p): s for p, s in sources.items()
                                        if os.path.dirname(p) == mount}, 0)
    for path, source in sources.items():
        if os.path.dirname(path) not in spec.secret_volumes:
            lines.append(f"mkdir -p {shlex.quote(os.path.dirname(_in_pod(path)))}")
            lines.append(f"cp {shlex.quote(str(source))} {shlex.quote(_in_pod(path))}")
    lines.append(f"mount --bind {shlex.quote(str(directory / 'hosts'))} /etc/hosts")
    lines.append("exec " + " ".join(shlex.quote(a) for a in [str(spec.binary), *spec.args]))
    return "\n".join(lines)


@dataclass
class LocalPod:
    """A pod running as a process in its own network and mount namespaces."""

    spec: PodSpec
    network_namespace: str
    address: str
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _volume_generations: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def log(self) -> Path:
        return self.directory / "log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def write_hosts(self, hosts: dict[str, str]) -> None:
        """The pod's /etc/hosts: `hosts` maps names to addresses. Rewritten in place, so a running pod sees it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "hosts").write_text("127.0.0.1 localhost\n" + "".join(
            f"{address} {name}\n" for name, address in sorted(hosts.items())))

    def start(self, hosts: dict[str, str], network: PodNetwork, api_server: tuple[str, int] | None = None) -> "LocalPod":
        """Start the pod: `hosts` maps the names it dials to addresses; `api_server`, the host's loopback address
        of the API server, is reached from the pod at 127.0.0.1:6443 (None: the pod does not talk to it)."""
        files = self.directory / "files"
        files.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)  # key material: owner only, removed with the directory
        for index, path in enumerate(sorted(self.spec.files)):
            (files / str(index)).write_bytes(self.spec.files[path])
        self.write_hosts(hosts)
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": self.spec.name}
        if api_server is not None:
            network.forward(self.network_namespace, API_PORT_IN_POD, api_server)
            env |= {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(API_PORT_IN_POD)}
        env |= self.spec.env
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.network_namespace, "sh", "-c", _script(self.spec, self.directory)],
                env=env, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        return self

    def volume(self, mount: str) -> dict[str, bytes]:
        """The files of the Secret volume at `mount`, by key, as the pod has them."""
        return {os.path.basename(p): data for p, data in self.spec.files.items() if os.path.dirname(p) == mount}

    def update_volume(self, mount: str, data: dict[str, bytes]) -> None:
        """Swap new contents into the Secret volume at `mount` of the running pod, as the kubelet does."""
        generation = self._volume_generations.get(mount, 0) + 1
        staged = self.directory / f"volume-{generation}"
        staged.mkdir()
        try:
            for key, content in data.items():
                (staged / key).write_bytes(content)
            script = "\n".join(["set -eu", *_atomic_volume(mount, {k: staged / k for k in data}, generation)])
            done = subprocess.run(["nsenter", "--target", str(self.pid), "--mount", "sh", "-c", script],
                                  capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                raise PodError(f"{self.spec.name}: updating {mount}: {done.stderr.strip()}")
        finally:
            shutil.rmtree(staged)  # key material: not left beside the pod
        self._volume_generations[mount] = generation
        self.spec.files = {p: c for p, c in self.spec.files.items() if os.path.dirname(p) != mount}
        self.spec.files.update({f"{mount}/{key}": content for key, content in data.items()})

    def wait(self, timeout: float) -> int | None:
        """The exit status once the pod's program ends within `timeout` seconds (None: still running)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> int | None:
        """End the pod's process group (SIGTERM, then SIGKILL after `grace`); its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=grace)
        return self.process.returncode


def wait_until(check, timeout: float, interval: float = 0.25) -> bool:
    """Poll `check()` until it is true or `timeout` seconds pass (bounded in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())


def http_status(network_namespace: str, address: str, port: int, path: str = "/", timeout: float = 3.0) -> int | None:
    """The status of `GET http://address:port/path` made from inside `network_namespace` (None: no answer)."""
    import http.client

    from .netns import socket_in

    try:
        sock = socket_in(network_namespace, (address, port), timeout=timeout)
    except OSError:
        return None
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    connection.sock = sock
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def run_deployment_pod(plane: "ControlPlane", network: PodNetwork, namespace: str, deployment: str, directory: Path,
                       hosts: dict[str, str] | None = None, files: dict[str, bytes] | None = None,
                       instance: str = "0", tools: Path = TOOLS) -> LocalPod:
    """Start pod `instance` of Deployment `namespace/deployment` of `plane`'s API server in a new namespace of
    `network`; `hosts` names what it dials, `files` replaces some of its files (to try it with others)."""
    from urllib.parse import urlparse

    name = f"{plane.name}-{deployment}-{instance}"
    network_namespace, address = network.add_pod(name)
    ca_pem = (plane.directory / "pki" / "ca.crt").read_bytes()
    spec = pod_spec(plane.client(), ca_pem, namespace, deployment, name, address, tools)
    spec.replace_files(files or {})
    url = urlparse(plane.url or "")
    pod = LocalPod(spec, network_namespace, address, directory / name)
    return pod.start(hosts or {}, network, (url.hostname or "127.0.0.1", url.port or 443))
