"""Container images without a registry: OCI archives made from this machine's binaries (root not needed).

The local clusters with nodes (clusterfabric/local/nodes.py) pull nothing: every image a rendered manifest
names is made here from a binary setup built or Debian installed, with the shared libraries `ldd` lists, and
imported into each node's containerd under the exact reference the manifest uses (`imagePullPolicy:
IfNotPresent` then finds it). An image is one uncompressed layer; its archive is an OCI image layout whose
index names the reference (`io.containerd.image.name`, what `ctr images import` registers it under).

- ClusterLink's `cl-controlplane` and `cl-go-dataplane`: ClusterLink v0.4.1's binaries (setup step 5), each at
  `/<name>` as its entrypoint, as upstream's Dockerfiles place them;
- `iperf3`: Debian's binary at /usr/bin/iperf3 (the example's pods give the command), and `/usr/bin/after`, a
  static binary compiled here that sleeps a number of seconds, then runs a command: a client pod connects once
  its Pod has its address (ClusterLink's control plane tells workloads apart by their pods' addresses; a
  connection made before the kubelet has reported the address is a workload it cannot name);
- CoreDNS (setup step 16) at `/coredns`;
- the pause image, every pod sandbox's: a static binary compiled here from C (gcc -static) that sleeps until a
  signal ends it.

Archives are kept in `.tools/images`, named by a hash of their content, so a second start reuses them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..toolchain import PROJECT_DIR

TOOLS = PROJECT_DIR / ".tools" / "bin"
CACHE = PROJECT_DIR / ".tools" / "images"
LOCAL_REGISTRY = "clusterfabric.local"
"""The registry name of the images the project itself makes up (pause, iperf3, CoreDNS); never contacted."""
PAUSE = f"{LOCAL_REGISTRY}/pause:3.10"
IPERF3 = f"{LOCAL_REGISTRY}/iperf3:3.12"
COREDNS = f"{LOCAL_REGISTRY}/coredns:v1.12.0"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PAUSE_SOURCE = r"""
#include <signal.h>
#include <unistd.h>
static void done(int sig) { (void)sig; _exit(0); }
int main(void) {
  signal(SIGTERM, done);
  signal(SIGINT, done);
  for (;;) pause();
}
"""

AFTER_SOURCE = r"""
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  sleep((unsigned)atoi(argv[1]));
  execv(argv[2], argv + 2);
  return 127;
}
"""


class ImageError(RuntimeError):
    """An image could not be made; the message says which and why."""


@dataclass
class Image:
    """An image to make: its reference, files (path in the image -> file here) and entrypoint."""

    reference: str
    files: dict[str, Path]
    entrypoint: list[str] = field(default_factory=list)

    def with_libraries(self) -> "Image":
        """The same image plus every shared library its files need (ldd), at the paths they have here."""
        files = dict(self.files)
        for source in self.files.values():
            for library in _libraries(source):
                files.setdefault(library, Path(library))
        return Image(self.reference, files, self.entrypoint)


def _libraries(binary: Path) -> list[str]:
    run = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if run.returncode != 0:  # "not a dynamic executable": nothing to add
        return []
    found = []
    for line in run.stdout.splitlines():
        words = line.split()
        path = words[2] if len(words) > 2 and words[1] == "=>" else words[0] if words and words[0].startswith("/") else None
        if path and path.startswith("/"):
            found.append(path)
    return found


def _tar_entry(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    archive.addfile(info, io.BytesIO(data))


def _layer(files: dict[str, Path]) -> bytes:
    """One layer: the files (links followed), their directories, and /tmp."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        directories = {"tmp", "etc", "proc", "sys", "dev"}
        for path in files:
            parts = path.strip("/").split("/")[:-1]
            directories.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for directory in sorted(directories):
            info = tarfile.TarInfo(directory)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755, 0
            archive.addfile(info)
        for path, source in sorted(files.items()):
            data = Path(source).read_bytes()
            _tar_entry(archive, path.strip("/"), data, os.stat(source).st_mode & 0o755 | 0o444)
    return buffer.getvalue()


def archive(image: Image, into: Path) -> Path:
    """The image as an OCI archive in `into` (made unless there already): its path."""
    image = image.with_libraries()
    layer = _layer(image.files)
    layer_digest = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": image.entrypoint, "Env": [PATH_ENV], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
    }, sort_keys=True).encode()
    config_digest = hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": f"sha256:{config_digest}",
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{layer_digest}",
                    "size": len(layer)}],
    }, sort_keys=True).encode()
    manifest_digest = hashlib.sha256(manifest).hexdigest()
    tag = image.reference.rsplit(":", 1)[1]
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{manifest_digest}",
        "size": len(manifest),
        "annotations": {"io.containerd.image.name": image.reference, "org.opencontainers.image.ref.name": tag}}]},
        sort_keys=True).encode()
    name = image.reference.rsplit("/", 1)[-1].replace(":", "-")
    path = into / f"{name}-{hashlib.sha256(index).hexdigest()[:16]}.tar"
    if path.exists():
        return path
    into.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with tarfile.open(partial, "w") as out:
        _tar_entry(out, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _tar_entry(out, "index.json", index)
        for digest, blob in ((layer_digest, layer), (config_digest, config), (manifest_digest, manifest)):
            _tar_entry(out, f"blobs/sha256/{digest}", blob)
    partial.rename(path)
    return path


def static_binary(name: str, source: str, into: Path) -> Path:
    """A binary compiled statically from C `source` (once per source)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    binary = into / f"{name}-{digest}"
    if not binary.exists():
        into.mkdir(parents=True, exist_ok=True)
        source_file = into / f"{name}-{digest}.c"
        source_file.write_text(source)
        run = subprocess.run(["gcc", "-static", "-Os", "-o", str(binary), str(source_file)], capture_output=True,
                             text=True)
        if run.returncode != 0:
            raise ImageError(f"gcc could not compile {name}: {run.stderr.strip()}")
    return binary


def _tool(name: str) -> Path:
    path = TOOLS / name
    if not os.access(path, os.X_OK):
        raise ImageError(f"{name} not found in {TOOLS}: run scripts/setup")
    return path


def clusterlink_images(references: dict[str, str]) -> list[Image]:
    """ClusterLink's images under the references the rendered manifests use: binary name -> reference."""
    return [Image(reference, {f"/{name}": _tool(name)}, [f"/{name}"]) for name, reference in references.items()]


def project_images(cache: Path = CACHE) -> list[Image]:
    """The images the project names itself: pause, iperf3 and CoreDNS."""
    iperf3 = Path(shutil.which("iperf3") or "/usr/bin/iperf3")
    return [Image(PAUSE, {"/pause": static_binary("pause", PAUSE_SOURCE, cache)}, ["/pause"]),
            Image(IPERF3, {"/usr/bin/iperf3": iperf3, "/usr/bin/after": static_binary("after", AFTER_SOURCE, cache)},
                  ["/usr/bin/iperf3"]),
            Image(COREDNS, {"/coredns": _tool("coredns")}, ["/coredns"])]
