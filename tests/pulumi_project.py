"""A throwaway copy of the project, run with the real Pulumi CLI on its own file backend."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# copy_program and point_at_venv are the toolchain's (the local runs copy the program too); kept importable here.
from clusterfabric.toolchain import copy_program, point_at_venv, pulumi_command, pulumi_env  # noqa: F401



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


def project(directory: Path, backend: Path | None = None) -> PulumiProject:
    """A project at `directory` with its own state backend (or a shared one)."""
    env = pulumi_env(directory)
    backend = backend or directory / ".pulumi" / "state"
    backend.mkdir(parents=True, exist_ok=True)
    env["PULUMI_BACKEND_URL"] = backend.as_uri()
    return PulumiProject(directory, env)
