"""The example fabric (config/) as the engine tests run it: its ClusterLink stacks, and its clusters on local API
servers."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from clusterfabric import Fabric
from clusterfabric.local.apiserver import ControlPlane
from clusterfabric.runner.fabric import ClusterTarget

EXAMPLE_STACKS = ("east", "west", "central")
"""The example fabric's ClusterLink stacks, exporters before the importer that reads them."""


def unchanged(stack: str) -> set[str]:
    """What an up of an example stack reports when nothing changed, its first up done: `same`; and for east, the
    fabric CA's owner, a `read`: its StackReference to itself, through which it keeps the certificate rotation it
    recorded, reads the outputs its previous up published (the first time, none)."""
    return {"same", "read"} if stack == "east" else {"same"}


def on_servers(project: Path, planes: dict[str, ControlPlane], **kwargs) -> Fabric:
    """The fabric of the program copy at `project`, each cluster targeting its local API server."""
    targets = {name: ClusterTarget(plane.kubeconfig, controllers=False) for name, plane in planes.items()}
    return Fabric("config", project_dir=project, targets=targets, **kwargs)


def keep_clusters(config: Path, names: tuple[str, ...]) -> None:
    """The example fabric at `config` (a copy) with only the clusters `names`, in fabric.yaml and as folders."""
    spec = yaml.safe_load((config / "fabric.yaml").read_text())
    spec["clusters"] = [c for c in spec["clusters"] if c["name"] in names]
    (config / "fabric.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    for folder in config.iterdir():
        if folder.is_dir() and folder.name not in names:
            shutil.rmtree(folder)

