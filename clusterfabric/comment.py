"""The pull-request comment: preview what a change affects, in one Markdown comment.

Stacks whose inputs changed since a git ref (their folder of manifests, their
entry in fabric.yaml, or the program itself) are previewed with every stack
that reads them, in dependency order. A stack that cannot be previewed here
(a Lattice stack with no AWS provider plugin or credentials) is evaluated
under mocks instead, and the comment says so.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from components.model import FabricManifests

from .fabric import Fabric, FabricResult, StackResult
from .graph import mermaid

MARKER = "<!-- clusterfabric:pr-preview -->"
# Paths whose change affects every stack: the program and its toolchain.
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "components/", "requirements.txt", "toolchain/")
SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "+-", "create-replacement": "++",
          "delete-replaced": "--"}


def changed_files(project_dir: Path, base: str) -> list[str]:
    """Files changed since `base`, committed or not, relative to the repository root."""
    def git(*args: str) -> list[str]:
        done = subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True)
        if done.returncode != 0:
            raise ValueError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return [line for line in done.stdout.splitlines() if line]
    return sorted(set(git("diff", "--name-only", base)) | set(git("ls-files", "--others", "--exclude-standard")))


def changed_stacks(fabric: FabricManifests, project_dir: Path, fabric_dir: Path, base: str) -> set[str]:
    """The stacks whose inputs changed since `base`."""
    files = changed_files(project_dir, base)
    names = [c.name for c in fabric.spec.clusters]
    if any(f == p or f.startswith(p) for f in files for p in PROGRAM_PATHS):
        return set(names)
    prefix = fabric_dir.resolve().relative_to(project_dir.resolve()).as_posix()
    changed = {f.split("/")[len(prefix.split("/"))] for f in files
               if f.startswith(prefix + "/") and len(f.split("/")) > len(prefix.split("/")) + 1}
    if f"{prefix}/fabric.yaml" in files:
        changed |= _changed_cluster_entries(project_dir, f"{prefix}/fabric.yaml", base, fabric)
    return changed & set(names)


def _changed_cluster_entries(project_dir: Path, path: str, base: str, fabric: FabricManifests) -> set[str]:
    shown = subprocess.run(["git", "show", f"{base}:{path}"], cwd=project_dir, capture_output=True, text=True)
    old = yaml.safe_load(shown.stdout) if shown.returncode == 0 else {}
    new = yaml.safe_load((project_dir / path).read_text())
    if not isinstance(old, dict) or old.get("name") != new.get("name"):
        return {c.name for c in fabric.spec.clusters}
    before = {c.get("name"): c for c in old.get("clusters", []) if isinstance(c, dict)}
    after = {c.get("name"): c for c in new.get("clusters", []) if isinstance(c, dict)}
    return {n for n in set(before) | set(after) if before.get(n) != after.get(n)}


def render(result: FabricResult, fabric: FabricManifests, changed: set[str], base: str) -> str:
    """The comment's Markdown."""
    affected = [s.stack for s in result.stacks]
    out = [MARKER, "## clusterfabric preview", "",
           f"Changed since `{base}`: {', '.join(f'`{s}`' for s in sorted(changed)) or 'no stack'}; "
           f"previewed with the stacks that read them: {', '.join(f'`{s}`' for s in affected) or 'none'}.", ""]
    out += ["| stack | result | create | update | delete | replace | duration |", "|---|---|---|---|---|---|---|"]
    for s in result.stacks:
        c = s.changes
        out.append(f"| `{s.stack}` | {_result_text(s)} | {c.get('create', 0)} | {c.get('update', 0)} | "
                   f"{c.get('delete', 0)} | {c.get('replace', 0)} | {s.duration:.1f}s |")
    out.append("")
    for s in result.stacks:
        out += _stack_section(s)
    packs = ", ".join(f"`{Path(p).name}`" for p in result.policy_packs) or "none"
    out += ["### Policy results", "", f"Policy packs: {packs}.", ""]
    out += [f"- `{s.stack}` **{p['level']}** `{p['policy']}` ({p['resource']}): {p['message']}"
            for s in result.stacks for p in s.policy] or ["No policy violations."]
    out.append("")
    warnings = [(s.stack, w) for s in result.stacks for w in s.warnings]
    out += ["### Warnings", ""]
    out += [f"- `{stack}`: {_one_line(w)}" for stack, w in warnings] or ["None."]
    out += ["", "### Fabric", "", "Changed clusters are highlighted; an arrow goes from an importer to the cluster "
            "it imports from (dashed: certificates or a service network).", "", "```mermaid",
            mermaid(fabric, changed), "```", ""]
    return "\n".join(out)


def _result_text(s: StackResult) -> str:
    if s.result == "planned offline":
        return "planned offline (no credentials here)"
    return s.result


def _stack_section(s: StackResult) -> list[str]:
    lines = [f"<details><summary><code>{s.stack}</code>: {_result_text(s)}</summary>", ""]
    if s.message:
        lines += ["```", s.message, "```", ""]
    if s.steps:
        lines += ["```diff"]
        for step in s.steps:
            diffs = f" ({', '.join(step['diffs'])})" if step["diffs"] else ""
            lines.append(f"{SYMBOL.get(step['op'], step['op'])} {step['type']} {step['urn'].split('::')[-1]}{diffs}")
        lines += ["```", ""]
    elif s.ok:
        lines += ["No changes.", ""]
    lines += ["</details>", ""]
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())


def pr_comment(fabric_dir: str | Path, base: str, **fabric_options: Any) -> tuple[str, FabricResult]:
    """Preview what changed since `base` (and what depends on it) and render the comment."""
    fabric = Fabric(fabric_dir, **fabric_options)
    model = fabric.load()
    changed = changed_stacks(model, fabric.project_dir, fabric.fabric_dir, base)
    graph = fabric.graph()
    affected = sorted(graph.affected(changed)) if changed else []
    result = fabric.preview(affected) if affected else FabricResult("preview", [])
    return render(result, model, changed, base), result
