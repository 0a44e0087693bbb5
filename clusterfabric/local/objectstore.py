"""A local S3-compatible object store, to keep a fabric's state in a bucket as teams do: SeaweedFS on loopback.

`scripts/setup test` builds SeaweedFS's `weed` (pinned by toolchain/seaweedfs/go.mod) into .tools/bin. One process,
`weed mini`, runs its master, volume server, filer and S3 gateway; every port is a free loopback port, its data,
socket files and log are in `directory`, and it answers S3 requests signed with the one identity of its S3 config
(an access key and secret made for it). Pulumi's backend is then the bucket:

    with ObjectStore(tmp / "s3") as store:
        env = {**os.environ, **store.env()}   # PULUMI_BACKEND_URL=s3://..., AWS_ACCESS_KEY_ID, ...
        subprocess.run(["clusterfabric", "up"], env=env)

The store is started by PID and stopped by it (SIGTERM, SIGKILL after a grace), also when the block fails. `weed
mini` is ready in about 4.7 s on a loaded two-core machine and ends on SIGTERM in 1.5 s; `weed server -filer -s3`
answers sooner (2.4 s, the bucket made through its filer) but does not end on SIGTERM (its filer keeps retrying its
peers), so it would be killed after the grace, leaving its socket files in /tmp.
`keys` and `read` look into the bucket through SeaweedFS's filer (the S3 gateway's own store), unsigned: the
tests read Pulumi's lock objects and checkpoints there.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..runner.processes import alive, terminate
from ..toolchain import TOOLS, write_private

START_TIMEOUT = 60.0
REGION = "us-east-1"
"""Any region does for SeaweedFS; the AWS SDK signs requests for one."""


class ObjectStoreError(RuntimeError):
    """The object store could not start (its log's last lines say why) or `weed` is not built."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ObjectStore:
    """SeaweedFS serving one bucket over S3 on 127.0.0.1; `start`, `stop`, `backend_url`, `env`."""

    directory: Path
    bucket: str = "clusterfabric"
    access_key: str = field(default_factory=lambda: "cf" + secrets.token_hex(8))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pid: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    started_in: float = 0.0
    """Seconds from spawning `weed` until the bucket answered."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def log(self) -> Path:
        return self.directory / "weed.log"

    def backend_url(self) -> str:
        """Pulumi's backend URL for the bucket: the endpoint, path-style addressing (no bucket host names on
        loopback), the region to sign for, and response checksums checked only where required (SeaweedFS sends
        none, and the AWS SDK warns of each on stderr otherwise). These are gocloud.dev's AWS SDK v2 parameters;
        Pulumi also takes the SDK v1 names, disableSSL and s3ForcePathStyle, and adds
        request_checksum_calculation=when_required for any endpoint of one's own."""
        query = urllib.parse.urlencode({"endpoint": self.endpoint, "use_path_style": "true", "region": REGION,
                                        "response_checksum_validation": "when_required"})
        return f"s3://{self.bucket}?{query}"

    def env(self) -> dict[str, str]:
        """What a Pulumi CLI needs to keep its state in the bucket."""
        return {"PULUMI_BACKEND_URL": self.backend_url(), "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": REGION}

    # --- start / stop -------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> ObjectStore:
        """Start `weed mini` and wait until the bucket exists; ObjectStoreError, with the log's end, if it does
        not within `timeout` (the process is stopped then)."""
        weed = TOOLS / "bin" / "weed"
        if not os.access(weed, os.X_OK):
            raise ObjectStoreError(f"{weed} not found: run scripts/setup test")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "s3.json"
        write_private(config, json.dumps({"identities": [{
            "name": "clusterfabric", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
        # Each server's HTTP and gRPC port, by flag (left alone, a gRPC port is the HTTP port + 10000, and the
        # admin server, which runs even without its UI, takes fixed ones: two stores at once would clash).
        self.ports = {flag: _free_port() for server in ("master", "volume", "filer", "s3", "admin")
                      for flag in (f"{server}.port", f"{server}.port.grpc")}
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        argv = [str(weed), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-bucket={self.bucket}",
                f"-s3.config={config}", *(f"-{flag}={port}" for flag, port in self.ports.items()),
                "-webdav=false", "-admin.ui=false", "-admin.port.legacy=0", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-master.telemetry=false", f"-filer.localSocket={self.directory / 'filer.sock'}",
                f"-s3.localSocket={self.directory / 's3.sock'}"]
        started = time.monotonic()
        with open(self.log, "ab") as out:
            self.pid = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, cwd=self.directory).pid
        deadline = started + timeout
        while time.monotonic() < deadline and alive(self.pid):
            if self._bucket_ready():
                self.started_in = time.monotonic() - started
                return self
            time.sleep(0.1)
        why = f"not ready after {timeout:.0f} s" if alive(self.pid) else "exited"
        self.stop()
        tail = self.log.read_text(errors="replace").splitlines()[-15:]
        raise ObjectStoreError(f"SeaweedFS (weed mini) {why}; last lines of {self.log}:\n  " + "\n  ".join(tail))

    def stop(self, grace: float = 15.0) -> None:
        """Stop the server by its PID: SIGTERM, SIGKILL after `grace` seconds; its data stays in `directory`."""
        pid, self.pid = self.pid, None
        if pid is not None:
            terminate(pid, grace)

    def __enter__(self) -> ObjectStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the bucket, through the filer -----------------------------------------------

    def keys(self, prefix: str = "") -> list[str]:
        """The keys of the bucket's objects under `prefix` (a folder path ending in `/`), recursively, sorted."""
        found: list[str] = []
        for entry in self._listing(prefix):
            key = entry["FullPath"].removeprefix(f"/buckets/{self.bucket}/")
            # A folder entry has no chunks and a directory mode bit (Go's os.ModeDir, 1 << 31).
            found += self.keys(key + "/") if entry.get("Mode", 0) & (1 << 31) else [key]
        return sorted(found)

    def read(self, key: str) -> bytes:
        with urllib.request.urlopen(self._filer_url(key), timeout=10) as response:
            return response.read()

    def _listing(self, prefix: str) -> list[dict]:
        request = urllib.request.Request(self._filer_url(prefix), headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read()).get("Entries") or []
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return []
            raise

    def _filer_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.ports['filer.port']}/buckets/{self.bucket}/{urllib.parse.quote(key)}"

    def _bucket_ready(self) -> bool:
        """Whether the S3 gateway answers and the filer holds the bucket (what `-bucket` makes before `weed mini`
        says it is ready)."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/healthz", timeout=2):
                pass
            request = urllib.request.Request(f"http://127.0.0.1:{self.ports['filer.port']}/buckets/",
                                             headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=2) as response:
                entries = json.loads(response.read()).get("Entries") or []
        except (OSError, ValueError):
            return False
        return any(e.get("FullPath") == f"/buckets/{self.bucket}" for e in entries)
