"""Images without a registry (clusterfabric/local/images.py): made from local files, named as the manifests name them."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from clusterfabric.local import images
from clusterfabric.local.nodefabric import clusterlink_images
from clusterfabric.components.model.clusterlink import ClusterLinkSettings


def archive_of(tmp_path: Path, reference: str) -> tarfile.TarFile:
    binary = tmp_path / "tool"
    binary.write_bytes(b"#!/bin/true\n")
    binary.chmod(0o755)
    return tarfile.open(images.archive(images.Image(reference, {"/usr/bin/tool": binary}, ["/usr/bin/tool"]),
                                       tmp_path / "out"))


def test_an_archive_is_imported_under_the_exact_reference(tmp_path):
    with archive_of(tmp_path, "ghcr.io/clusterlink-net/cl-controlplane:v0.4.1") as archive:
        index = json.load(archive.extractfile("index.json"))
    assert [m["annotations"] for m in index["manifests"]] == [{
        "io.containerd.image.name": "ghcr.io/clusterlink-net/cl-controlplane:v0.4.1",
        "org.opencontainers.image.ref.name": "v0.4.1"}]


def test_the_layer_holds_the_file_at_its_path_with_its_mode(tmp_path):
    with archive_of(tmp_path, "clusterfabric.local/tool:1") as archive:
        index = json.load(archive.extractfile("index.json"))
        manifest = json.load(archive.extractfile(f"blobs/sha256/{index['manifests'][0]['digest'].split(':')[1]}"))
        layer = archive.extractfile(f"blobs/sha256/{manifest['layers'][0]['digest'].split(':')[1]}")
        with tarfile.open(fileobj=layer) as files:
            tool = files.getmember("usr/bin/tool")
            assert (tool.mode & 0o777, files.extractfile(tool).read()) == (0o755, b"#!/bin/true\n")


@pytest.mark.parametrize(("registry", "expected"), [
    (None, ["ghcr.io/clusterlink-net/cl-controlplane:v0.4.1", "ghcr.io/clusterlink-net/cl-go-dataplane:v0.4.1"]),
    ("clusterfabric.local", ["clusterfabric.local/cl-controlplane:v0.4.1", "clusterfabric.local/cl-go-dataplane:v0.4.1"]),
])
def test_clusterlinks_images_take_the_references_of_the_registry_setting(tmp_path, monkeypatch, registry, expected):
    for name in ("cl-controlplane", "cl-go-dataplane"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setattr(images, "TOOLS", tmp_path)
    settings = ClusterLinkSettings() if registry is None else ClusterLinkSettings(registry=registry)
    assert [image.reference for image in clusterlink_images(settings)] == expected
