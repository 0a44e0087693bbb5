"""Earlier releases of the example fabric's program, brought up and upgraded to this release's as a user would,
and what the preview after the upgrade would do.

Each earlier release's program is kept as released (`git archive v0.1.0
Pulumi.yaml __main__.py components config stacks`, likewise v0.2.0) in tests/fixtures/releases,
so the tests need no git history. The upgrade happens where a user's does: in the same directory, the
program files swapped, the stack files, state and rendered manifests kept, and
fabric.yaml edited as docs/upgrading.md says.
"""

from __future__ import annotations

import functools
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

from clusterfabric.toolchain import PROJECT_DIR
from tests.example_fabric import EXAMPLE_STACKS
from tests.pulumi_project import PulumiProject, copy_program, point_at_venv, project

RELEASES = PROJECT_DIR / "tests" / "fixtures" / "releases"
PROGRAM = ("__main__.py", "components", "Pulumi.yaml")
# Steps that would touch a running cluster's objects: none may happen to what the old release made.
DISRUPTIVE = {"replace", "create-replacement", "delete-replaced", "delete", "create"}
REPLACEMENT = {"replace", "create-replacement", "delete-replaced"}
# docs/upgrading.md: a NodePort ingress's `port` is now the node port it pins (the Service keeps port 443).
MIGRATION = ("ingress: {type: NodePort, port: 443}", "ingress: {type: NodePort, port: 30443}")


def released(directory: Path, release: str, stacks: tuple[str, ...] = EXAMPLE_STACKS,
             providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """The example fabric's `stacks` up (in run order) with the program of `release`, in `directory`. `providers`
    readies the project for the plugins its stacks need, each time a release's Pulumi.yaml is put in place."""
    with tarfile.open(RELEASES / f"{release}.tar.gz") as archive:
        archive.extractall(directory, filter="data")
    point_at_venv(directory / "Pulumi.yaml")
    proj = project(directory)
    providers(proj)
    for stack in stacks:
        proj.init_stack(stack)
        proj.up(stack)
    return proj


def swap_in_this_release(proj: PulumiProject, migration: tuple[str, str] | None = None,
                         providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """This release's program in place of a released one, stack files, state and rendered manifests kept, and
    fabric.yaml edited as docs/upgrading.md says (`migration`)."""
    directory = proj.directory
    for name in PROGRAM:
        path = directory / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    current = copy_program(directory.parent / "current")
    for name in PROGRAM:  # this release's program is the installed package's: no components/ beside it
        if (current / name).exists():
            shutil.move(current / name, directory / name)
    providers(proj)
    if migration:
        fabric = directory / "config" / "fabric.yaml"
        assert migration[0] in fabric.read_text()
        fabric.write_text(fabric.read_text().replace(*migration))
    return proj


def upgrade(directory: Path, release: str, migration: tuple[str, str] | None = None,
            stacks: tuple[str, ...] = EXAMPLE_STACKS,
            providers: Callable[[PulumiProject], None] = lambda proj: None) -> PulumiProject:
    """The example fabric's `stacks` up with `release`, then this release's program swapped in."""
    return swap_in_this_release(released(directory, release, stacks, providers), migration, providers)


def preview_steps(proj: PulumiProject, stack: str) -> list[dict]:
    preview = json.loads(proj.pulumi("preview", "--json", "--stack", stack).stdout)
    return [{"op": s["op"], "urn": s["urn"]} for s in preview.get("steps", [])]


def previews(proj: PulumiProject) -> Callable[[str], list[dict]]:
    """`preview_steps` of each stack of `proj`, each taken once: for the tests that only read the previews of one
    upgrade, before any of them changes a stack."""
    return functools.cache(lambda stack: preview_steps(proj, stack))


def resource_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def is_component(urn: str) -> bool:
    return resource_type(urn).startswith("clusterfabric:")


def provider_changes(steps: list[dict]) -> list[dict]:
    """The steps that would create, replace or delete a provider resource (not a component of this program)."""
    return [s for s in steps if s["op"] in DISRUPTIVE | REPLACEMENT and not is_component(s["urn"])]
