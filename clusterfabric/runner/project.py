"""Where a fabric's stacks live: the Pulumi project that deploys it. Its stack settings (`Pulumi.<cluster>.yaml`),
its rendered manifests and, unless `PULUMI_BACKEND_URL` says otherwise, its state and passphrase are in that
project's directory, so two fabrics never share a stack, whatever their clusters are called.

A fabric's project is the directory holding its `Pulumi.yaml`: the fabric directory itself (what `clusterfabric
init` makes), or, for a fabric directory named `config`, its parent (this repository's layout: `config/` beside
`Pulumi.yaml`, the folder the program reads when its stack names none). Any other fabric directory has no
project: the error says how to make one, rather than putting its stacks in some other fabric's project.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from clusterfabric.components.contract import DEFAULT_FABRIC_FOLDER

PROJECT_FILE = "Pulumi.yaml"


class NoProjectError(RuntimeError):
    """A fabric directory no Pulumi project deploys."""


def project_of(fabric_dir: Path) -> Path:
    """The directory of the Pulumi project that deploys the fabric at `fabric_dir` (an absolute path)."""
    if (fabric_dir / PROJECT_FILE).is_file():
        return fabric_dir
    if fabric_dir.name == DEFAULT_FABRIC_FOLDER and (fabric_dir.parent / PROJECT_FILE).is_file():
        return fabric_dir.parent
    raise NoProjectError(
        f"{fabric_dir}: no Pulumi project deploys this fabric (no {PROJECT_FILE} in it, nor beside it for a folder "
        f"named {DEFAULT_FABRIC_FOLDER}): `clusterfabric init {fabric_dir}` makes it one, keeping its fabric.yaml "
        "and cluster folders; its stacks, their settings and state then live there")


def home_of(fabric_dir: Path) -> Path:
    """Where the fabric's local files go (its local control planes, the paths an offline plan would render to):
    its project's directory, else its own (a plan or a control plane needs no project)."""
    try:
        return project_of(fabric_dir)
    except NoProjectError:
        return fabric_dir


def project_name(project_dir: Path) -> str:
    """The project's name, as its Pulumi.yaml says (part of every stack's name and URN)."""
    return str((yaml.safe_load((project_dir / PROJECT_FILE).read_text()) or {}).get("name", ""))


def stack_settings_dir(project_dir: Path) -> Path:
    """Where the project keeps its stacks' settings files (Pulumi.yaml's `stackConfigDir`, else beside it)."""
    folder = (yaml.safe_load((project_dir / PROJECT_FILE).read_text()) or {}).get("stackConfigDir")
    return project_dir / folder if folder else project_dir
