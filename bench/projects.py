"""Throwaway Pulumi projects for the engine benchmarks, each on a backend of its own.

Like the engine tests (tests/pulumi_project.py, reused here), the benchmarks
never touch the repository's own state: every measured `up` starts from an
empty file backend in a temporary directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.pulumi_project import PulumiProject, point_at_venv, project

from .measure import REPO, Run, run_measured
from .generate import Shape, generate

MAIN = '"""Benchmark program (bench/engine_program.py)."""\nfrom bench.engine_program import {entry}\n\n{entry}()\n'


def program_project(directory: Path, entry: str, shape: Shape | None = None) -> Path:
    """A project whose program is `bench.engine_program.<entry>`, with the fabric of `shape` in config/."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "Pulumi.yaml", directory / "Pulumi.yaml")
    point_at_venv(directory / "Pulumi.yaml")
    (directory / "__main__.py").write_text(MAIN.format(entry=entry))
    (directory / "stacks").mkdir(exist_ok=True)
    if shape is not None:
        generate(directory / "config", shape)
    return directory


def on_fresh_backend(directory: Path, backend: Path, stacks: list[str]) -> PulumiProject:
    """`directory` on an empty backend at `backend`, with `stacks` created and nothing rendered yet."""
    for stale in (backend, directory / "rendered"):
        shutil.rmtree(stale, ignore_errors=True)
    for config in (directory / "stacks").glob("Pulumi.*.yaml"):
        config.unlink()
    proj = project(directory, backend)
    proj.env["PYTHONPATH"] = str(REPO)  # the programs import bench (and components, from the repository)
    for stack in stacks:
        proj.init_stack(stack)
    return proj


def timed_up(proj: PulumiProject, stack: str) -> Run:
    """`pulumi up` of `stack`, measured (wall time, and peak memory of the process tree it waited for)."""
    from clusterfabric.toolchain import pulumi_command

    run = run_measured([pulumi_command(proj.env), "up", "--yes", "--skip-preview", "--non-interactive",
                        "--stack", stack], cwd=proj.directory, env=proj.env)
    if run.returncode != 0:
        raise RuntimeError(f"pulumi up {stack} failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    return run
