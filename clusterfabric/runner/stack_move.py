"""Moving a fabric's stacks into its own project: the upgrade from releases that kept every fabric's stacks in
the project they ran from (the checkout), whatever directory the fabric was in.

A stack there belongs to the fabric its settings name (`clusterfabric:fabric`, relative to that project). Each
moves with everything it had: its state (exported as it is, secrets still encrypted), its settings file (with
the encryption salt) and the passphrase file, so the same passphrase opens it; its URNs name the new project
(part of every URN, as the engine would after `pulumi stack rename`); its rendered manifests move beside it, and
its state says so (moved_state): nothing is replaced, a preview after the move has nothing to do. All
stacks move or none: a failure removes what was made in the new project and leaves the old one untouched. Only
then are the old stacks removed (their resources stay: they are the moved stacks'), a copy of each exported
state kept in `.pulumi/moved/`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

import yaml

from clusterfabric.components.contract import FABRIC, config_key
from clusterfabric.components.model.json_values import DESCEND, rebuilt

from ..toolchain import pulumi_env, run_pulumi, write_private
from .project import project_name, stack_settings_dir


class MoveError(RuntimeError):
    """The stacks could not move; the old project still has them all, the new one none of them."""


def stacks_elsewhere(old_project: Path, fabric_dir: Path, clusters: set[str]) -> list[str]:
    """The stacks of `old_project` whose settings name the fabric at `fabric_dir`, among `clusters`."""
    if not (old_project / "Pulumi.yaml").is_file() or old_project.resolve() == fabric_dir.resolve():
        return []
    found = []
    for path in sorted(stack_settings_dir(old_project).glob("Pulumi.*.yaml")):
        stack = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        named = ((yaml.safe_load(path.read_text()) or {}).get("config") or {}).get(config_key(FABRIC))
        if stack in clusters and named and (old_project / named).resolve() == fabric_dir.resolve():
            found.append(stack)
    return found


def move_stacks(old_project: Path, new_project: Path, stacks: list[str],
                progress: Callable[[str], None] = lambda line: None) -> None:
    """Move `stacks` from `old_project` into `new_project` (module docstring)."""
    old_env, new_env = pulumi_env(old_project), _new_env(old_project, new_project)
    old_name, new_name = project_name(old_project), project_name(new_project)
    old_settings, new_settings = stack_settings_dir(old_project), stack_settings_dir(new_project)
    made: list[str] = []
    exported: dict[str, str] = {}
    try:
        for stack in stacks:
            target = new_settings / f"Pulumi.{stack}.yaml"
            if target.exists() or _exists(new_env, new_project, stack):
                raise MoveError(f"{stack}: the fabric's project {new_project} has a stack {stack} already")
            done = run_pulumi(old_env, old_project, ["stack", "export", "--stack", stack])
            _check(done, stack, "export it from " + str(old_project))
            exported[stack] = done.stdout
            settings = yaml.safe_load((old_settings / f"Pulumi.{stack}.yaml").read_text()) or {}
            settings.get("config", {}).pop(config_key(FABRIC), None)  # the project's own fabric, by default
            target.write_text(yaml.safe_dump(settings, sort_keys=False))
            made.append(stack)
            _check(run_pulumi(new_env, new_project, ["stack", "init", stack]), stack, "create it")
            state = new_project / ".pulumi" / "moved" / f"{stack}.json"
            moved = moved_state(json.loads(done.stdout), stack, (old_name, new_name),
                                (old_project / "rendered" / stack, new_project / "rendered" / stack))
            write_private(state, json.dumps(moved))
            _check(run_pulumi(new_env, new_project, ["stack", "import", "--stack", stack, "--file", str(state)]),
                   stack, "import its state")
            # Its secrets open with the passphrase it moved with (export --show-secrets decrypts every one).
            _check(run_pulumi(new_env, new_project, ["stack", "export", "--show-secrets", "--stack", stack]),
                   stack, "open its secrets after the move")
            progress(f"{stack}: moved into {new_project}")
    except MoveError:
        for stack in made:
            run_pulumi(new_env, new_project, ["stack", "rm", "--yes", "--force", "--stack", stack])
            (new_settings / f"Pulumi.{stack}.yaml").unlink(missing_ok=True)
        raise
    for stack in stacks:
        state = new_project / ".pulumi" / "moved" / f"{stack}.json"
        write_private(state, exported[stack])  # the old project's state as it was, secrets encrypted
        _check(run_pulumi(old_env, old_project, ["stack", "rm", "--yes", "--force", "--stack", stack]), stack,
               f"remove it from {old_project} (moved already: remove it there by hand)")
        rendered = old_project / "rendered" / stack
        if rendered.is_dir() and not (new_project / "rendered" / stack).exists():
            shutil.move(rendered, new_project / "rendered" / stack)
        progress(f"{stack}: removed from {old_project} (its state as it was: {state})")


def _new_env(old_project: Path, new_project: Path) -> dict[str, str]:
    """The new project's environment, its passphrase file the old project's (copied when it has none)."""
    old = pulumi_env(old_project)
    source = old.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    target = new_project / ".pulumi" / "passphrase"
    if source and "PULUMI_CONFIG_PASSPHRASE" not in old:
        if target.exists() and target.read_text().strip() != Path(source).read_text().strip():
            raise MoveError(f"{target} holds another passphrase than {source}, which encrypts the stacks to move: "
                            "move them before the fabric's project has stacks of its own (remove that file if it "
                            "has none)")
        write_private(target, Path(source).read_text())
    return pulumi_env(new_project)


def _exists(env: dict[str, str], project: Path, stack: str) -> bool:
    listed = run_pulumi(env, project, ["stack", "ls", "--json"])
    return listed.returncode == 0 and any(s.get("name") == stack for s in json.loads(listed.stdout or "[]"))


def _check(done: Any, stack: str, what: str) -> None:
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise MoveError(f"{stack}: could not {what}: " + ("\n".join(lines[-3:]) or f"exited {done.returncode}"))


def moved_state(state: Any, stack: str, projects: tuple[str, str], rendered: tuple[Path, Path]) -> Any:
    """The exported state of `stack` as it is after the move: its URNs in the new project instead of the old one
    (`projects`: old, new; the stack resource is named after the project too, `<project>-<stack>`), its
    StackReferences naming the stacks they read in the new project (`<organization>/<project>/<stack>`, their
    name, id and URN), and its rendered manifests' folder (the Kubernetes provider's `renderYamlToDirectory`)
    where they moved (`rendered`: old, new), as the files are; a changed folder would make the provider replace
    every object it rendered. The state is then what the program declares in the new project."""
    (old, new), (old_folder, new_folder) = projects, rendered
    prefix, renamed = f"urn:pulumi:{stack}::{old}::", f"urn:pulumi:{stack}::{new}::"
    root, new_root = f"::pulumi:pulumi:Stack::{old}-{stack}", f"::pulumi:pulumi:Stack::{new}-{stack}"
    reference = re.compile(rf"^([^/]+)/{re.escape(old)}/([^/]+)$")

    def referenced(name: str) -> str:
        return reference.sub(rf"\1/{new}/\2", name)

    def at(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(prefix):
            urn = (renamed + value[len(prefix):]).replace(root, new_root)
            kind, _, name = urn.rpartition("::")
            return f"{kind}::{referenced(name)}" if kind.endswith("::pulumi:pulumi:StackReference") else urn
        if value == str(old_folder):
            return str(new_folder)
        if isinstance(value, Mapping) and value.get("type") == "pulumi:pulumi:StackReference" and "id" in value:
            return {**rebuilt({k: v for k, v in value.items() if k not in ("id", "inputs", "outputs")}, at),
                    "id": referenced(value["id"]),
                    **{part: {**value[part], "name": referenced(value[part]["name"])}
                       for part in ("inputs", "outputs") if isinstance(value.get(part), Mapping)
                       and "name" in value[part]}}
        return DESCEND

    return rebuilt(state, at)
