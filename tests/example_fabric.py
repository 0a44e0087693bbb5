"""The example fabric (config/) as the engine tests run it: its ClusterLink stacks, and its clusters on local API
servers."""

from __future__ import annotations

from pathlib import Path

from clusterfabric import Fabric
from clusterfabric.local.apiserver import ControlPlane
from clusterfabric.runner.fabric import ClusterTarget

EXAMPLE_STACKS = ("east", "west", "central")
"""The example fabric's ClusterLink stacks, exporters before the importer that reads them."""


def on_servers(project: Path, planes: dict[str, ControlPlane], **kwargs) -> Fabric:
    """The fabric of the program copy at `project`, each cluster targeting its local API server."""
    targets = {name: ClusterTarget(plane.kubeconfig, controllers=False) for name, plane in planes.items()}
    return Fabric("config", project_dir=project, targets=targets, **kwargs)
