"""A throwaway copy of the project, run with the real Pulumi CLI on its own file backend."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clusterfabric.toolchain import PROJECT_DIR, pulumi_command, pulumi_env

# What a cluster program needs; the rest of the repository stays out of the copy.
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components", "config", "stacks")


@dataclass
class PulumiProject:
    """A Pulumi project directory and the environment to run the CLI in it."""

    directory: Path
    env: dict[str, str]

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [pulumi_command(self.env), *args, "--non-interactive"],
            cwd=self.directory, env=self.env, capture_output=True, text=True, timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def up(self, stack: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.pulumi("up", "--yes", "--skip-preview", "--stack", stack, *args)

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--show-secrets", "--stack", stack).stdout)

    def init_stack(self, stack: str) -> None:
        self.pulumi("stack", "init", stack)


def copy_program(destination: Path, source: Path = PROJECT_DIR) -> Path:
    """Copy the cluster program to `destination`, using the repository's virtualenv."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        path = source / name
        if path.is_dir():
            # Stack files are per machine (they carry its encryption salt): a copy starts without them.
            shutil.copytree(path, destination / name, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
        else:
            shutil.copy2(path, destination / name)
    point_at_venv(destination / "Pulumi.yaml")
    return destination


def point_at_venv(pulumi_yaml: Path) -> None:
    text = pulumi_yaml.read_text()
    pulumi_yaml.write_text(text.replace("virtualenv: .venv", f"virtualenv: {PROJECT_DIR / '.venv'}"))


def project(directory: Path, backend: Path | None = None) -> PulumiProject:
    """A project at `directory` with its own state backend (or a shared one)."""
    env = pulumi_env(directory)
    backend = backend or directory / ".pulumi" / "state"
    backend.mkdir(parents=True, exist_ok=True)
    env["PULUMI_BACKEND_URL"] = backend.as_uri()
    return PulumiProject(directory, env)
