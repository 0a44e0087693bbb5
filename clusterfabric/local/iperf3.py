"""iperf3 through a locally running fabric: ClusterLink's own example, as `clusterfabric iperf3` runs it.

The documentation's example (examples/iperf3, verbatim): `server` exports the
Service `iperf3-server` (port 5000 to iperf3's 5201), `client` imports it. Here
`iperf3 -s` runs as a pod behind that Service, and `iperf3 -c` as a pod of the
importing cluster, against the imported Service or a data plane's listener.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, Callable, Iterator

from .localfabric import LocalFabric, run_locally

IPERF3 = shutil.which("iperf3") or "/usr/bin/iperf3"
SERVER_PORT = 5201
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "iperf3"
_clients = count()


@dataclass
class Transfer:
    """One `iperf3 -c` run: its exit status and its JSON report."""

    status: int | None
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return self.report.get("end", {}).get("sum_received", {}).get("bytes", 0)

    @property
    def bits_per_second(self) -> float:
        return self.report.get("end", {}).get("sum_received", {}).get("bits_per_second", 0.0)

    @property
    def error(self) -> str | None:
        return self.report.get("error")

    @property
    def completed(self) -> bool:
        """No error and more than a megabyte received (iperf3 3.12 exits 0 even on an error when it reports in
        JSON: the report is what tells)."""
        return self.status == 0 and self.error is None and self.received > 1_000_000

    @property
    def refused(self) -> bool:
        return self.error is not None and self.received == 0


def serve(local: LocalFabric, cluster: str = "server", namespace: str = "default",
          labels: dict[str, str] | None = None) -> None:
    """`iperf3 -s` as a pod of `cluster`, selected by the Service `iperf3-server` (app=iperf3-server)."""
    local.run_workload(cluster, namespace, "iperf3-server-0", labels or {"app": "iperf3-server"},
                       [IPERF3, "-s", "-p", str(SERVER_PORT)])


def transfer(local: LocalFabric, host: str, port: int, seconds: int = 2, cluster: str = "client",
             labels: dict[str, str] | None = None, namespace: str = "default") -> Transfer:
    """`iperf3 -c host -p port -t seconds` as a pod of `cluster` (labelled app=iperf3-client unless `labels`
    says otherwise), bounded: stopped if it has not ended 40 s after its time."""
    client = local.run_workload(cluster, namespace, f"iperf3-client-{next(_clients)}",
                                labels or {"app": "iperf3-client"},
                                [IPERF3, "-c", host, "-p", str(port), "-t", str(seconds), "-J",
                                 "--connect-timeout", "5000"])
    status = client.wait(seconds + 40)
    if status is None:
        client.stop()
    return _transfer(status, client.log.read_text(errors="replace"))


@dataclass
class Attempt:
    """One connection of `connections`: when it started (wall clock) and how it went."""

    started: float
    transfer: Transfer


@contextmanager
def connections(local: LocalFabric, host: str, port: int, cluster: str = "client", limit: int = 600) -> Iterator[
        list[Attempt]]:
    """New iperf3 connections to `host:port`, one after another (each one second of data at 20 Mbit/s, bounded to
    20 s), from a pod of `cluster` for as long as the block runs (at most `limit` of them): on leaving, the list
    holds every attempt that ended. The loop is asked to stop after its current attempt, then stopped. The rate
    is low on purpose: what counts is that each connection gets through, and the CPU is left to what runs beside."""
    loop = (f"i=0; while [ $i -lt {limit} ] && [ ! -e stop ]; do i=$((i+1)); date +%s.%N > started-$i; "
            f"timeout 20 {IPERF3} -c {host} -p {port} -t 1 -b 20M -J --connect-timeout 3000 > report-$i 2>&1; "
            "echo $? > status-$i; sleep 0.5; done")
    pod = local.run_workload(cluster, "default", f"iperf3-loop-{next(_clients)}", {"app": "iperf3-client"},
                             ["/bin/sh", "-c", loop])
    attempts: list[Attempt] = []
    try:
        yield attempts
    finally:
        (pod.directory / "stop").touch()
        if pod.wait(30) is None:
            pod.stop()
        attempts += _attempts(pod.directory)


def _attempts(directory: Path) -> list[Attempt]:
    """The attempts a `connections` loop finished, in order."""
    found = []
    for status in sorted(directory.glob("status-*"), key=lambda p: int(p.name.split("-")[1])):
        index = status.name.split("-")[1]
        found.append(Attempt(float((directory / f"started-{index}").read_text()),
                             _transfer(int(status.read_text()), (directory / f"report-{index}").read_text(errors="replace"))))
    return found


def _transfer(status: int | None, text: str) -> Transfer:
    """A transfer from iperf3's exit status and its JSON report (or what it printed instead)."""
    try:
        report = json.loads(text[text.index("{"):])
    except ValueError:
        report = {"error": text.strip() or "no report"}
    return Transfer(status, report)


def import_listener(local: LocalFabric, cluster: str = "client", namespace: str = "default",
                    name: str = "iperf3-server") -> tuple[str, int]:
    """Where the importing data plane listens for an Import: its address and the Import's targetPort."""
    imp = local.client(cluster).read("clusterlink.net/v1alpha1", "Import", name, namespace)
    return local.pod(cluster, "cl-dataplane").address, imp["spec"]["targetPort"]


def run_example(work_dir: Path, seconds: int = 5, progress: Callable[[str], None] = print,
                fabric_dir: Path = EXAMPLE) -> tuple[Transfer, Transfer]:
    """The whole example on this machine: (through the fabric by the imported Service's name, directly from the
    client's pod to the server's for comparison)."""
    with run_locally(fabric_dir, work_dir, progress) as run:
        serve(run.local)
        run.local.sync()
        progress(f"iperf3 -c iperf3-server -p 5000 -t {seconds} in cluster client (through ClusterLink)")
        through = transfer(run.local, "iperf3-server", 5000, seconds)
        progress(f"iperf3 -c <server pod> -p {SERVER_PORT} -t {seconds} (directly, for comparison)")
        direct = transfer(run.local, run.local.pod("server", "iperf3-server").address, SERVER_PORT, seconds)
        return through, direct
