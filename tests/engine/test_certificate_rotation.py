"""Rotating the fabric's certificates while traffic flows, judged by ClusterLink's own binaries.

ClusterLink's iperf3 example (plus `retired`, a peer that leaves the fabric: its certificate was issued, its cluster
never ran) goes up on local API servers; the real `cl-controlplane` and `cl-go-dataplane` run as pods, and the
local kubelet brings each changed Secret into their files as a cluster's would (clusterfabric/local/localfabric.py).
Then, with iperf3 connections opened one after another all the while, `rotate-certificates` renews the client's
certificate, and rolls the fabric CA over: stopped once right after the CA owner's first phase (as by ^C), then run
again, which resumes. Each phase must keep every new connection succeeding; afterwards a certificate of the old CA
is refused on the wire, the removed peer's included. No private key may appear in the state, the outputs, the logs
or what the rotation printed, after any phase.

The data plane resumes TLS sessions (`ClientSessionCache`; Go re-checks a resumed session's chain against the CAs
it trusts now, not the certificate the other side would present now), so an iperf3 connection may get through on
a session made before a phase where a full handshake would fail. So full handshakes are made as well, all the
while: from the client's data plane's network to the server's gateway, presenting the client's certificate and
trusting its CA bundle as its Secret holds them at that moment, as its data plane does once it has no session to
resume.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from cryptography import x509
from pulumi import automation as auto

from clusterfabric.gitops.comment import render
from clusterfabric.local.iperf3 import EXAMPLE, Attempt, connections, import_listener, serve
from clusterfabric.local.localfabric import LocalFabric, run_locally
from clusterfabric.local.netns import socket_in
from clusterfabric.runner.cli import table
from clusterfabric.runner.fabric import Fabric
from clusterfabric.runner.rotation import PhaseRun, RotationResult
from clusterfabric.toolchain import automation_command

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

NAMESPACE = "clusterlink-system"
PEERS = ("server", "client")  # server, the first ClusterLink cluster, owns the fabric CA
PROPAGATION_SECONDS = 5
"""The local kubelet refreshes every second and the control plane reloads within another: 5 s covers both."""
VALIDITY_DAYS = 20
PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def fabric_with_a_retired_peer(directory: Path) -> Path:
    """The iperf3 example with a third peer, `retired`; a rotation that waits PROPAGATION_SECONDS per phase; leaf
    certificates issued for VALIDITY_DAYS, within the warning window (30 days)."""
    fabric = Path(shutil.copytree(EXAMPLE, directory / "fabric"))
    (fabric / "retired").mkdir()
    spec = yaml.safe_load((fabric / "fabric.yaml").read_text())
    spec["clusters"].append({"name": "retired", "dataplane": "clusterlink"})
    spec["certificates"] = {"propagationSeconds": PROPAGATION_SECONDS, "validityDays": VALIDITY_DAYS}
    (fabric / "fabric.yaml").write_text(yaml.safe_dump(spec))
    return fabric


@dataclass
class Peer:
    """A peer's certificate and key (PEM), as its Secret `cl-peer` holds them or its issuer published them."""

    cert: str
    key: str = field(repr=False)  # a failing assertion prints its operands: never a key

    @property
    def issuer(self) -> str:
        return x509.load_pem_x509_certificate(self.cert.encode()).issuer.rfc4514_string()


def cl_peer(local: LocalFabric, cluster: str) -> dict[str, str]:
    data = local.client(cluster).read("v1", "Secret", "cl-peer", NAMESPACE)["data"]
    return {key: base64.b64decode(value).decode() for key, value in data.items()}


def subjects(pem: str) -> list[str]:
    return [c.subject.rfc4514_string() for c in x509.load_pem_x509_certificates(pem.encode())]


def issued_certificates(fabric: Fabric, owner: str) -> dict[str, Peer]:
    """Every peer certificate the CA owner's stack publishes (`fabricCertificates`, read with its secrets)."""
    stack = auto.select_stack(owner, work_dir=str(fabric.project_dir), opts=auto.LocalWorkspaceOptions(
        env_vars=fabric.env, pulumi_command=automation_command()))
    peers = stack.outputs()["fabricCertificates"].value["peers"]
    return {name: Peer(p["cert"], p["key"]) for name, p in peers.items()}


def handshake(local: LocalFabric, peer: Peer, tmp_path: Path, trusted: str | None = None) -> str:
    """What the server's data plane (the gateway, port 4443) answers a client presenting `peer`'s certificate,
    from the client cluster's data plane's network: the TLS alert it sends, or "accepted" (nothing sent unasked,
    and an HTTP response to a request). With `trusted` (a CA bundle), the server's certificate must verify
    against it, as a data plane's must (its name is not checked: the data plane dials an address)."""
    files = Path(tempfile.mkdtemp(dir=tmp_path))
    (files / "cert.pem").write_text(peer.cert)
    (files / "key.pem").write_text(peer.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    if trusted is None:
        context.verify_mode = ssl.CERT_NONE  # the server's verdict is what is tested
    else:
        context.load_verify_locations(cadata=trusted)
    context.load_cert_chain(files / "cert.pem", files / "key.pem")
    shutil.rmtree(files)
    gateway = local.pod("server", "cl-dataplane")
    raw = socket_in(local.pod("client", "cl-dataplane").pod.network_namespace, (gateway.address, 4443), timeout=10)
    try:
        with context.wrap_socket(raw, server_hostname="server") as tls:
            # TLS 1.3: a refusal of the client's certificate is an alert after the handshake, sent at once and
            # unasked; an accepted client has 2 s to send its request (the data plane's ReadHeaderTimeout).
            try:
                tls.settimeout(1)
                return f"sent unasked: {tls.recv(5)!r}"
            except socket.timeout:
                tls.settimeout(10)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: server\r\n\r\n")
            return "accepted" if tls.recv(5) == b"HTTP/" else "no answer"
    except (ssl.SSLError, OSError) as err:
        return str(err)


@dataclass(repr=False)  # it holds the Secrets, keys included: a failing assertion must not print them
class Phase:
    """A phase as it ended: the Secrets it left in each cluster, the connections and full handshakes made while it
    ran."""

    secrets: dict[str, dict[str, str]]
    connections: list[Attempt] = field(default_factory=list)
    handshakes: list[str] = field(default_factory=list)
    """What the server answered each full handshake (`full_handshakes`)."""

    def failures(self) -> list[str]:
        return [str(a.transfer.error or a.transfer.report.get("end")) for a in self.connections
                if not a.transfer.completed]

    def refused_handshakes(self) -> list[str]:
        return [verdict for verdict in self.handshakes if verdict != "accepted"]


@dataclass(repr=False)  # it holds every key: a failing assertion must not print them
class Rotations:
    """What the module's rotations did and left, for the tests to read."""

    before: dict[str, Peer]
    retired: Peer
    renewal: Phase | None = None
    handshakes_before_rollover: dict[str, str] = field(default_factory=dict)
    recorded_when_interrupted: dict[str, dict] = field(default_factory=dict)
    trusted_when_interrupted: str = ""
    """The CA owner's `ca.pem` when the rollover was interrupted."""
    issued_when_interrupted: list[str] = field(default_factory=list)
    """The peers the CA owner held certificates for then."""
    phases: dict[str, Phase] = field(default_factory=dict)
    printed: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    """The state backend's files as each phase left them."""
    keys: set[str] = field(default_factory=set)
    """Every private key the fabric held at some phase (PEM, and its base64 body's start)."""
    result: RotationResult | None = None
    """The last rotation's (the rollover's)."""
    ran: list[PhaseRun] = field(default_factory=list)
    """Every phase of every rotation."""


def key_material(pem: str) -> set[str]:
    """A private key as PEM, and two parts of its base64 body: the first 40 characters, which every PKCS#8 P-256
    key shares (so any such key is found), and its private number (bytes 36-68), its own."""
    body = "".join(pem.strip().splitlines()[1:-1])
    return {pem, body[:40], body[48:88]}


def snapshot(local: LocalFabric, fabric: Fabric, rotations: Rotations) -> dict[str, dict[str, str]]:
    """Each cluster's `cl-peer` now; and, for the key checks, the keys it holds and the state's files."""
    secrets = {cluster: cl_peer(local, cluster) for cluster in PEERS}
    for secret in secrets.values():
        rotations.keys |= key_material(secret["key.pem"])
    backend = fabric.project_dir / ".pulumi" / "state"
    rotations.states.append("\n".join(p.read_text(errors="replace") for p in backend.rglob("*") if p.is_file()))
    return secrets


def stopped_after(fabric: Fabric, stack: str) -> Fabric:
    """`fabric`, interrupted (as by ^C) as soon as `stack`'s run has finished."""
    def on_event(event) -> None:
        if event.stack == stack and event.kind == "finished":
            raise KeyboardInterrupt(f"stopped after {stack}")

    return Fabric(fabric.fabric_dir, project_dir=fabric.project_dir, env=fabric.env, targets=fabric.targets,
                  on_event=on_event)


@contextmanager
def full_handshakes(local: LocalFabric, tmp_path: Path) -> Iterator[list[tuple[float, str]]]:
    """Full handshakes, one after another for as long as the block runs, as the client's data plane makes one
    without a session to resume: its certificate and CA bundle as its Secret holds them at that moment. On
    leaving, the list holds when each started and what the server answered (`handshake`)."""
    made: list[tuple[float, str]] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            started = time.time()
            try:
                now = cl_peer(local, "client")
            except KeyError:  # the Secret absent a moment (replaced): a kubelet keeps the pod's files meanwhile
                now = None
            if now:
                made.append((started, handshake(local, Peer(now["cert.pem"], now["key.pem"]), tmp_path,
                                                now["ca.pem"])))
            stop.wait(0.5)

    thread = threading.Thread(target=loop, name="full-handshakes")
    thread.start()
    try:
        yield made
    finally:
        stop.set()
        thread.join()


def rotated(fabric: Fabric, local: LocalFabric, rotations: Rotations, phases: dict[str, Phase], tmp_path: Path,
            **asked) -> None:
    """`rotate-certificates` with iperf3 connections and full handshakes made throughout; each phase's Secrets as
    it ended, and the connections and handshakes started while it ran (its wait for the kubelets included)."""
    def progress(line: str) -> None:
        rotations.printed.append(line)
        if ": applied;" in line:
            phases[line.split(" ", 1)[0]] = Phase(snapshot(local, fabric, rotations))

    with connections(local, *import_listener(local)) as attempts, full_handshakes(local, tmp_path) as handshakes:
        rotations.result = fabric.rotate_certificates(progress=progress, **asked)
    assert rotations.result.ok, [(p.name, [(s.stack, s.message) for s in p.result.stacks if not s.ok])
                                 for p in rotations.result.phases]
    rotations.ran += rotations.result.phases
    for run in rotations.result.phases:
        phase = phases[run.name.split(" ", 1)[0]]
        phase.connections = [a for a in attempts if run.started <= a.started <= run.finished]
        phase.handshakes = [verdict for started, verdict in handshakes if run.started <= started <= run.finished]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("rotation")
    with run_locally(fabric_with_a_retired_peer(work), work / "run", clusters=list(PEERS)) as running:
        serve(running.local)
        yield running


@pytest.fixture(scope="module")
def rotations(run, tmp_path_factory: pytest.TempPathFactory) -> Rotations:
    """The client's certificate renewed, `retired` removed from the fabric, the fabric CA rolled over (interrupted
    once, then resumed): everything the tests check, recorded as it happened."""
    fabric, local = run.fabric, run.local
    before = {c: Peer(cl_peer(local, c)["cert.pem"], cl_peer(local, c)["key.pem"]) for c in PEERS}
    done = Rotations(before, issued_certificates(fabric, "server")["retired"])
    done.keys |= {part for peer in [*before.values(), done.retired] for part in key_material(peer.key)}
    tls = tmp_path_factory.mktemp("tls")
    renewal: dict[str, Phase] = {}
    rotated(fabric, local, done, renewal, tls, peer="client")
    done.renewal = renewal["renew"]

    without_retired(fabric.fabric_dir)  # its certificate leaves the CA owner's state at the rollover's first up
    with pytest.raises(KeyboardInterrupt):
        stopped_after(fabric, "server").rotate_certificates(fabric_ca=True)
    done.recorded_when_interrupted = {c: fabric.outputs(c)["certificateRotation"] for c in PEERS}
    done.trusted_when_interrupted = snapshot(local, fabric, done)["server"]["ca.pem"]
    done.issued_when_interrupted = sorted(issued_certificates(fabric, "server"))
    done.handshakes_before_rollover = {"client's certificate before its renewal": handshake(local, before["client"], tls),
                                       "retired": handshake(local, done.retired, tls)}
    rotated(fabric, local, done, done.phases, tls, fabric_ca=True)
    return done


def without_retired(fabric_dir: Path) -> None:
    """`retired` taken out of the fabric: its entry in fabric.yaml, its folder."""
    spec = yaml.safe_load((fabric_dir / "fabric.yaml").read_text())
    spec["clusters"] = [c for c in spec["clusters"] if c["name"] != "retired"]
    (fabric_dir / "fabric.yaml").write_text(yaml.safe_dump(spec))
    shutil.rmtree(fabric_dir / "retired")


def test_a_renewed_peer_certificate_is_a_new_one_of_the_same_ca_and_no_new_connection_fails(rotations):
    renewed = rotations.renewal.secrets["client"]
    assert renewed["cert.pem"] != rotations.before["client"].cert
    assert Peer(renewed["cert.pem"], "").issuer == "CN=iperf3 fabric CA"
    assert len(rotations.renewal.connections) >= 5 and len(rotations.renewal.handshakes) >= 3
    assert rotations.renewal.failures() == [] and rotations.renewal.refused_handshakes() == []


def test_until_the_fabric_ca_rolls_over_a_renewed_or_removed_peers_certificate_still_gets_through(rotations):
    # ClusterLink checks no revocation: the fabric CA vouches for every certificate it signed, in the state or not.
    assert rotations.issued_when_interrupted == ["client", "server"]
    assert rotations.handshakes_before_rollover == {"client's certificate before its renewal": "accepted",
                                                    "retired": "accepted"}


def test_an_interrupted_rollover_is_recorded_by_the_ca_owner_and_resumed_from_that_phase(rotations):
    assert rotations.recorded_when_interrupted == {
        "server": {"generation": 1, "phase": "trust", "renewals": {"client": 1}},
        "client": {"generation": 0, "phase": None, "renewals": {"client": 1}}}
    assert subjects(rotations.trusted_when_interrupted) == ["CN=iperf3 fabric CA", "CN=iperf3 fabric CA 2"]
    # The new CA the interrupted run issued is the one the resumed rollover went on with.
    assert rotations.phases["trust"].secrets["server"]["ca.pem"] == rotations.trusted_when_interrupted
    assert [p.name for p in rotations.result.phases] == [
        "trust (fabric CA generation 1)", "reissue (fabric CA generation 1)", "drop (fabric CA generation 1)"]


def test_first_every_peer_trusts_both_cas_and_no_new_connection_fails(rotations):
    trust = rotations.phases["trust"]
    for cluster in PEERS:
        assert subjects(trust.secrets[cluster]["ca.pem"]) == ["CN=iperf3 fabric CA", "CN=iperf3 fabric CA 2"]
        assert Peer(trust.secrets[cluster]["cert.pem"], "").issuer == "CN=iperf3 fabric CA"
    assert len(trust.connections) >= 5 and len(trust.handshakes) >= 3
    assert trust.failures() == [] and trust.refused_handshakes() == []


def test_then_every_peer_gets_a_certificate_of_the_new_ca_and_no_new_connection_fails(rotations):
    reissue = rotations.phases["reissue"]
    for cluster in PEERS:
        assert subjects(reissue.secrets[cluster]["ca.pem"]) == ["CN=iperf3 fabric CA", "CN=iperf3 fabric CA 2"]
        assert subjects(reissue.secrets[cluster]["cert.pem"]) == [f"CN={cluster}", "CN=iperf3 fabric CA 2"]
    assert len(reissue.connections) >= 5 and len(reissue.handshakes) >= 3
    assert reissue.failures() == [] and reissue.refused_handshakes() == []


def test_then_the_old_ca_is_dropped_and_no_new_connection_fails(rotations):
    drop = rotations.phases["drop"]
    for cluster in PEERS:
        assert subjects(drop.secrets[cluster]["ca.pem"]) == ["CN=iperf3 fabric CA 2"]
    assert len(drop.connections) >= 5 and len(drop.handshakes) >= 3
    assert drop.failures() == [] and drop.refused_handshakes() == []


def test_after_the_rollover_a_certificate_of_the_old_ca_is_refused_on_the_wire(run, rotations, tmp_path: Path):
    assert "alert unknown ca" in handshake(run.local, rotations.before["client"], tmp_path)
    current = cl_peer(run.local, "client")
    assert handshake(run.local, Peer(current["cert.pem"], current["key.pem"]), tmp_path) == "accepted"
    assert "certificate signed by unknown authority" in run.local.pod("server", "cl-dataplane").pod.log.read_text()


def test_the_removed_peers_certificate_no_longer_gets_through_once_the_rollover_dropped_its_ca(run, rotations,
                                                                                              tmp_path: Path):
    assert "alert unknown ca" in handshake(run.local, rotations.retired, tmp_path)


def test_after_the_rollover_a_preview_plans_no_change_and_warns_of_every_certificate_expiring_soon(run, rotations):
    result = run.fabric.preview()
    assert {s.stack: {op: n for op, n in s.changes.items() if op not in ("same", "read")} for s in result.stacks} == {
        "server": {}, "client": {}}
    soon = [(e.stack, e.certificate, e.days_left) for e in result.expiring]
    assert sorted(soon) == [(stack, certificate, VALIDITY_DAYS - 1) for stack, certificate in (
        ("client", "cl-controlplane"), ("client", "cl-dataplane"), ("server", "cl-controlplane"),
        ("server", "cl-dataplane"), ("server", "peer client"), ("server", "peer server"))]
    assert [str(e) for e in run.fabric.certificate_expiry()] == [str(e) for e in result.expiring]  # validate --deployed
    assert "- **warning** server: certificate 'peer client' expires on " in render(result, run.fabric.load(), set(),
                                                                                  "main")


def test_no_private_key_is_in_the_state_outputs_logs_report_or_pr_comment_after_any_phase(run, rotations):
    counted = (len(rotations.states), len(rotations.keys))  # counted first: the set's repr would show the keys
    assert counted == (5, 13)  # 6 keys (2 first, 1 renewed, 2 reissued, retired), 2 parts each and 1 they share
    logs = "\n".join(p.read_text(errors="replace") for p in (run.fabric.project_dir / ".pulumi").rglob("*.log"))
    outputs = "\n".join(str(run.fabric.outputs(c)) for c in PEERS)
    model = run.fabric.load()
    reports = [table(p.result) + render(p.result, model, set(PEERS), "main") for p in rotations.ran]
    places = {**{f"the state as snapshot {n} of 5 found it": state for n, state in enumerate(rotations.states, 1)},
              "what the rotations printed": "\n".join(rotations.printed), "the logs": logs, "the outputs": outputs,
              **{f"the report of {p.name}": report for p, report in zip(rotations.ran, reports)}}
    # Named, not shown: a failing assertion prints its operands, and these would hold the keys.
    leaked = [place for place, text in places.items()
              if PEM_KEY.search(text) or any(key in text for key in rotations.keys)]
    assert leaked == []
