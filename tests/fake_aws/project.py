"""A copy of a Python program whose `aws` provider is the fake plugin: the engine tests' Lattice programs, and the
fabric's own program with a fabric's Lattice stacks up against it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clusterfabric.offline.plan import lattice_api
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.contract import FABRIC, config_key
from clusterfabric.components.model import load_fabric, run_order
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pulumi_project import PulumiProject, copy_program, point_at_venv, project

PROGRAM = PROJECT_DIR / "tests" / "engine" / "projects" / "fake_aws"
"""The test program: a service network and one service's Lattice resources declared through pulumi_aws."""


def lattice_program(directory: Path, state: Path, stack: str, source: Path = PROGRAM,
                    **config: str) -> PulumiProject:
    """A copy of the program at `source` (the test program) in `directory`, with stack `stack` and its `config`,
    its `aws` provider the fake keeping its state in `state`."""
    shutil.copytree(source, directory)
    point_at_venv(directory / "Pulumi.yaml")
    point_at_fake_aws(directory / "Pulumi.yaml")
    proj = project(directory)
    use_fake_aws(proj.env, state)
    proj.init_stack(stack)
    for key, value in config.items():
        proj.pulumi("config", "set", "--stack", stack, key, value)
    return proj


def fabric_on_fake_aws(directory: Path, fabric: Path | None = None) -> tuple[PulumiProject, list[str], Path]:
    """The fabric's program copied to `directory`, its `aws` provider the fake, with the Lattice stacks of the
    example fabric (or of `fabric`, copied beside it) up in dependency order; the fake's state, in the file
    returned, starts as the offline plan's does (what fabric.yaml and the manifests say exists already)."""
    copy_program(directory)
    point_at_fake_aws(directory / "Pulumi.yaml")
    if fabric is not None:
        shutil.copytree(fabric, directory / fabric.name)
    fabric_dir = directory / (fabric.name if fabric is not None else "config")
    proj = project(directory)
    state = directory.parent / "aws.json"
    loaded = load_fabric(fabric_dir)
    state.write_text(json.dumps(lattice_api(loaded).to_json()))
    use_fake_aws(proj.env, state)
    stacks = [name for name in run_order(loaded) if loaded.spec.cluster(name).lattice]
    for stack in stacks:
        proj.init_stack(stack)
        proj.pulumi("config", "set", "--stack", stack, config_key(FABRIC), fabric_dir.name)
        proj.up(stack)
    return proj, stacks, state


def expect_no_changes(proj: PulumiProject, stacks: list[str]) -> None:
    """A second `up` of each stack would change nothing."""
    for stack in stacks:
        proj.pulumi("preview", "--expect-no-changes", "--stack", stack)


def destroy_in_reverse(proj: PulumiProject, stacks: list[str]) -> None:
    for stack in reversed(stacks):
        proj.pulumi("destroy", "--yes", "--stack", stack)
