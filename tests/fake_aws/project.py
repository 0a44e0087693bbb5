"""A copy of a Python program whose `aws` provider is the fake plugin: the engine tests' Lattice programs."""

from __future__ import annotations

import shutil
from pathlib import Path

from clusterfabric.toolchain import PROJECT_DIR
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pulumi_project import PulumiProject, point_at_venv, project

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
