"""Network namespaces for running a cluster's pods as local processes (root only).

A `PodNetwork` is one private network: a namespace holding a bridge, and for
each pod a namespace of its own (its own loopback, so two pods may both listen
on 4445 as in Kubernetes) joined to the bridge by a veth pair, with an address
on `10.<n>.0.0/16`. Nothing is attached to the host's own interfaces: traffic
stays on loopbacks and on that bridge. Every namespace is named after the
network (`cf<id>-...`) and removed by name in `close`.

The host process reaches into a pod's namespace through sockets made there
(`socket_in`): a thread enters the namespace (`setns`), creates the socket and
returns; the socket keeps its namespace. `forward` uses that to give pods a
loopback port that leads to a server on the host's loopback (the local API
server), the way a Service's ClusterIP leads to the real API server.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import secrets
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
T = TypeVar("T")


class NetworkError(RuntimeError):
    """A namespace, link or address could not be set up; the message has the command and its output."""


def ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def in_namespace(namespace: str, work: Callable[[], T]) -> T:
    """`work()` run by a thread inside network namespace `namespace`; what it returns (sockets it made keep
    that namespace). Namespaces are per thread on Linux, so the caller's own stays as it is."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(NETNS_DIR / namespace) as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {namespace}")
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def socket_in(namespace: str, address: tuple[str, int], listen: bool = False, timeout: float = 5.0) -> socket.socket:
    """A TCP socket inside `namespace`: listening on `address`, or connected to it."""

    def make() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if listen:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(64)
            else:
                sock.settimeout(timeout)
                sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock

    return in_namespace(namespace, make)


@dataclass
class Forwarder:
    """Copies each TCP connection accepted on `listener` to a new connection to `target`: an accepting
    thread, and two copying threads per connection (one each way)."""

    listener: socket.socket
    target: tuple[str, int]
    connect: Callable[[], socket.socket] | None = None
    """How to reach the target (default: a connection from this process's own namespace)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _open: set[socket.socket] = field(default_factory=set)

    def start(self) -> "Forwarder":
        self.listener.settimeout(0.2)
        self._spawn(self._accept)
        return self

    def _spawn(self, work: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=work, args=args, name=f"forward-{self.target[1]}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                accepted, _ = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                upstream = self.connect() if self.connect else socket.create_connection(self.target, timeout=5)
            except OSError:
                accepted.close()
                continue
            for sock in (accepted, upstream):
                sock.settimeout(None)
                self._open.add(sock)
            self._spawn(self._copy, accepted, upstream)
            self._spawn(self._copy, upstream, accepted)

    def _copy(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        """Stop accepting, cut every open connection, and wait for the threads (bounded)."""
        self._stop.set()
        for sock in list(self._open):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        for sock in self._open:
            sock.close()
        self.listener.close()


_network_numbers = itertools.count(1)


@dataclass
class PodNetwork:
    """A bridge in a namespace of its own, and a namespace per pod attached to it (see the module's doc)."""

    prefix: str = field(default_factory=lambda: f"cf{secrets.token_hex(3)}")
    subnet: int = field(default_factory=lambda: 100 + next(_network_numbers) % 100)
    namespaces: list[str] = field(default_factory=list)
    forwarders: list[Forwarder] = field(default_factory=list)
    _addresses: dict[str, str] = field(default_factory=dict)

    @property
    def bridge_namespace(self) -> str:
        return f"{self.prefix}-net"

    def _add_namespace(self, name: str) -> str:
        ip("netns", "add", name)
        self.namespaces.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        return name

    def open(self) -> "PodNetwork":
        if os.geteuid() != 0:
            raise NetworkError("running pods locally needs root (network and mount namespaces)")
        self._add_namespace(self.bridge_namespace)
        ip("-n", self.bridge_namespace, "link", "add", "br0", "type", "bridge")
        ip("-n", self.bridge_namespace, "link", "set", "br0", "up")
        return self

    def reserve(self, name: str) -> str:
        """An address of the network that no pod has: where a load balancer or node port would be, reached only
        through the address translation each pod is given (`set_dnat`)."""
        index = len(self._addresses) + 1
        address = f"10.{self.subnet}.{index // 250}.{index % 250 + 1}"
        self._addresses[name] = address
        return address

    def add_pod(self, pod: str) -> tuple[str, str]:
        """A namespace for `pod` on the bridge: (namespace name, its address)."""
        address = self.reserve(pod)
        index = len(self._addresses)
        namespace = self._add_namespace(f"{self.prefix}-{pod}"[:60])
        outside = f"{self.prefix}v{index}"
        ip("link", "add", outside, "netns", self.bridge_namespace, "type", "veth", "peer", "name", "eth0",
           "netns", namespace)
        ip("-n", self.bridge_namespace, "link", "set", outside, "master", "br0", "up")
        ip("-n", namespace, "addr", "add", f"{address}/16", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")
        return namespace, address

    @staticmethod
    def route(namespace: str, cidr: str) -> None:
        """Send `cidr` (a cluster's Service addresses) out of the pod's interface, so connections to it reach
        the address translation of `set_dnat` (Linux routes a packet before translating it)."""
        ip("-n", namespace, "route", "replace", cidr, "dev", "eth0")

    @staticmethod
    def set_dnat(namespace: str, rules: list[tuple[str, int, str, int]]) -> None:
        """kube-proxy's job in one pod: a TCP connection to (address, port) of `rules` goes to (address', port')
        instead. Replaces the pod's previous rules (an nftables table of its own)."""
        lines = ["table ip clusterfabric", "delete table ip clusterfabric", "table ip clusterfabric {",
                 "  chain output {", "    type nat hook output priority -100; policy accept;"]
        lines += [f"    ip daddr {a} tcp dport {p} dnat to {to}:{to_port}" for a, p, to, to_port in rules]
        lines += ["  }", "}", ""]
        result = subprocess.run(["ip", "netns", "exec", namespace, "nft", "-f", "-"], input="\n".join(lines),
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise NetworkError(f"nft in {namespace}: {result.stderr.strip()}")

    def forward(self, namespace: str, port: int, target: tuple[str, int]) -> Forwarder:
        """Connections to 127.0.0.1:`port` inside `namespace` reach `target` on the host's loopback."""
        forwarder = Forwarder(socket_in(namespace, ("127.0.0.1", port), listen=True), target).start()
        self.forwarders.append(forwarder)
        return forwarder

    def close(self) -> None:
        """Stop the forwarders and delete every namespace this network made, by name (veths go with them)."""
        for forwarder in self.forwarders:
            forwarder.stop()
        self.forwarders.clear()
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self.namespaces.clear()

    def __enter__(self) -> "PodNetwork":
        return self.open()

    def __exit__(self, *_: object) -> None:
        self.close()
