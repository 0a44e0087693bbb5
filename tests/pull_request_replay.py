"""A pull request replayed as a CI runner sees it: the fabric's repository with its base commit, the shared backend
and passphrase a runner is given, the change committed, and a fresh clone where the last runner checked out."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable

from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import copy_program


def git(directory: Path, *args: str) -> str:
    identity = ("-c", "user.email=ci@example.com", "-c", "user.name=ci")
    return subprocess.run(["git", *identity, *args], cwd=directory, check=True, capture_output=True,
                          text=True).stdout.strip()


def origin_repository(root: Path, prepare: Callable[[Path], None]) -> tuple[Path, str]:
    """A copy of the program at `root`/origin, `prepare`d (given the copy), committed as the base: the copy and the
    base commit."""
    origin = copy_program(root / "origin")
    prepare(origin)
    shutil.copy2(PROJECT_DIR / ".gitignore", origin / ".gitignore")
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "base")
    return origin, git(origin, "rev-parse", "HEAD")


def shared_backend(root: Path) -> dict[str, str]:
    """The shared backend and passphrase a CI runner is given (secrets of the repository), in `root`."""
    backend = root / "backend"
    backend.mkdir()
    passphrase = root / "passphrase"
    passphrase.write_text("pull-request-test-passphrase\n")
    return {"PULUMI_BACKEND_URL": backend.as_uri(), "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase)}


def commit_appended(origin: Path, message: str, appended: dict[str, str]) -> None:
    """Commit to the repository at `origin` the text appended to each of its files (paths relative to it)."""
    for file, text in appended.items():
        with (origin / file).open("a") as f:
            f.write(text)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", message)


def fresh_clone(root: Path, origin: Path) -> Path:
    """A clone of `origin` at `root`/checkout, where each runner checks out."""
    checkout = root / "checkout"
    git(root, "clone", "-q", str(origin), str(checkout))
    return checkout


def created(stack) -> list[tuple[str, str]]:
    """(type, name) of each resource a stack's preview (its StackResult) creates: the objects, each in its
    component."""
    return sorted((step["urn"].split("::")[2].split("$")[-1], step["urn"].split("::")[-1])
                  for step in stack.steps if step["op"] == "create")

