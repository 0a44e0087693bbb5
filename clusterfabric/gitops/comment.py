"""The pull-request comment: preview what a change affects, in one Markdown comment.

Stacks whose inputs changed since a git ref (their folder of manifests, their
entry in fabric.yaml, or the program itself) are previewed with every stack
that reads them, in dependency order (`Graph.affected`: a reader of what they
deploy, certificates or ARNs, and its readers in turn; a ClusterLink importer,
but not its own importers, as what it publishes is its own manifests'). A stack
that cannot be previewed here (a Lattice stack with no AWS provider plugin or
credentials, or one reading a stack not deployed yet) is evaluated under mocks
instead, and the comment says so.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from clusterfabric.components.model import FabricManifests, dependencies
from clusterfabric.components.model.load import reading_once

from ..runner import changes
from ..runner.fabric import Fabric
from ..runner.results import FabricResult, StackResult
from .graph import mermaid
from .report import COLUMNS, row

MARKER = "<!-- clusterfabric:pr-preview -->"
# Paths whose change affects every stack: the program and its toolchain.
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "components", "requirements.txt", "toolchain")


class GitError(Exception):
    """A git question about the fabric's repository that git could not answer: no repository, or no such ref."""


def _git(directory: Path, *args: str) -> list[str]:
    done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True)
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)} (in {directory}): {done.stderr.strip()}")
    return [line for line in done.stdout.splitlines() if line]


def repository_root(directory: Path) -> Path:
    return Path(_git(directory, "rev-parse", "--show-toplevel")[0]).resolve()


def changed_files(directory: Path, base: str) -> list[str]:
    """Files changed since `base` in the repository holding `directory`, committed or not, relative to its root."""
    root = repository_root(directory)
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except GitError:
        raise GitError(f"--base {base}: no such commit in the repository at {root} (a branch of the remote may need "
                       "`git fetch` first, e.g. `git fetch origin main` for --base origin/main)") from None
    return sorted(set(_git(root, "diff", "--name-only", base)) | set(_git(root, "ls-files", "--others",
                                                                            "--exclude-standard")))


def changed_stacks(fabric: FabricManifests, project_dir: Path, fabric_dir: Path, base: str) -> set[str]:
    """The stacks whose inputs changed since `base`, a ref of the fabric's repository: the program's own, or a
    separate configuration repository (the usual GitOps layout), where a change of the program is not seen."""
    root = repository_root(fabric_dir)
    files = changed_files(fabric_dir, base)
    names = [c.name for c in fabric.spec.clusters]
    program = project_dir.resolve()
    if program.is_relative_to(root):
        program_paths = [(program.relative_to(root) / p).as_posix() for p in PROGRAM_PATHS]
        if any(f == p or f.startswith(p + "/") for f in files for p in program_paths):
            return set(names)
    folder = fabric_dir.resolve().relative_to(root).parts  # () when the repository is the fabric
    changed = {Path(f).parts[len(folder)] for f in files
               if Path(f).parts[:len(folder)] == folder and len(Path(f).parts) > len(folder) + 1}
    fabric_file = Path(*folder, "fabric.yaml").as_posix()
    if fabric_file in files:
        changed |= _changed_cluster_entries(root, fabric_file, base, fabric)
    return changed & set(names)


def _changed_cluster_entries(root: Path, path: str, base: str, fabric: FabricManifests) -> set[str]:
    shown = subprocess.run(["git", "show", f"{base}:{path}"], cwd=root, capture_output=True, text=True)
    old = yaml.safe_load(shown.stdout) if shown.returncode == 0 else {}
    new = yaml.safe_load((root / path).read_text())
    if not isinstance(old, dict) or old.get("name") != new.get("name"):
        return {c.name for c in fabric.spec.clusters}
    before = {c.get("name"): c for c in old.get("clusters", []) if isinstance(c, dict)}
    after = {c.get("name"): c for c in new.get("clusters", []) if isinstance(c, dict)}
    changed = {n for n in set(before) | set(after) if before.get(n) != after.get(n)}
    # A ClusterLink peer added or removed changes the certificates the fabric CA's owner issues.
    peers = {n for n in set(before) ^ set(after) if (before.get(n) or after.get(n)).get("dataplane") == "clusterlink"}
    owner = fabric.ca_owner()
    return changed | ({owner} if peers and owner else set())


def render(result: FabricResult, fabric: FabricManifests, changed: set[str], base: str) -> str:
    """The comment's Markdown: each changed object with its fields' old and new values; when that would pass
    GitHub's limit, the objects alone (their changed fields named), so that none is left out; cut at the limit
    only when even that is too long."""
    text = _rendered(result, fabric, changed, base, values=True)
    if len(text) > LIMIT:
        text = _rendered(result, fabric, changed, base, values=False)
    return capped(text)


def _rendered(result: FabricResult, fabric: FabricManifests, changed: set[str], base: str, values: bool) -> str:
    affected = [s.stack for s in result.stacks]
    out = [MARKER, "## clusterfabric preview", "",
           f"Changed since `{base}`: {', '.join(f'`{s}`' for s in sorted(changed)) or 'no stack'}; "
           f"previewed with the stacks that read them: {', '.join(f'`{s}`' for s in affected) or 'none'}.", ""]
    if not result.stacks:
        out += [f"No stack's inputs changed since `{base}`: nothing to preview.", ""]
    else:
        out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for s in result.stacks:
            name, _, *cells = row(s)
            out.append("| " + " | ".join([f"`{name}`", _result_text(s), *cells]) + " |")
        out.append("")
    if not values:
        out += ["_The changed values are left out: with them the comment would pass GitHub's limit of 65,536 "
                "characters. `clusterfabric preview` shows them._", ""]
    for s in result.stacks:
        out += _stack_section(s, values)
    packs = ", ".join(f"`{Path(p).name}`" for p in result.policy_packs) or "none"
    out += ["### Policy results", "", f"Policy packs: {packs}.", ""]
    # An advisory about an object this change leaves alone would repeat on every pull request: count it only.
    shown = [(s.stack, p) for s in result.stacks for p in s.policy
             if p["level"] != "advisory" or p["resource"] in _changed_names(s)]
    out += [f"- `{stack}` **{p['level']}** `{p['policy']}` ({p['resource']}): {p['message']}"
            for stack, p in shown] or ["No policy violations."]
    unchanged = sum(len(s.policy) for s in result.stacks) - len(shown)
    if unchanged:
        out.append(f"- and {unchanged} advisories on objects this change leaves as they are (not shown; "
                   "`clusterfabric preview` lists them)")
    out.append("")
    warnings = [(s.stack, w) for s in result.stacks for w in s.warnings]
    out += ["### Warnings", ""]
    out += [f"- `{stack}`: {_one_line(w)}" for stack, w in warnings] or ["None."]
    if result.expiring:
        out += ["", "### Certificates", ""]
        out += [f"- **{'error' if e.expired else 'warning'}** {e}" for e in result.expiring]
    out += ["", "### Fabric", "", "Changed clusters are highlighted; an arrow goes from an importer to the cluster "
            "it imports from (dashed: certificates or a service network).", "", "```mermaid",
            mermaid(fabric, changed), "```", ""]
    return "\n".join(out)


LIMIT = 65_536
"""The most characters GitHub takes in a comment's body."""


def capped(text: str, limit: int = LIMIT) -> str:
    """`text`, cut at a line to fit GitHub's limit, with open code blocks and details closed and a note saying so."""
    if len(text) <= limit:
        return text
    note = ("\n\n_The preview was cut here: the comment reached GitHub's limit of 65,536 characters. "
            "The whole preview is in the workflow's log._\n")
    kept: list[str] = []
    size = 0
    for line in text.splitlines():
        if size + len(line) + 1 > limit - len(note) - 200:  # room for the closing fence and tags
            break
        kept.append(line)
        size += len(line) + 1
    closing = ["```"] if sum(line.startswith("```") for line in kept) % 2 else []
    opened = sum(line.startswith("<details") for line in kept) - sum(line == "</details>" for line in kept)
    return "\n".join(kept + closing + ["</details>"] * opened) + note


def _changed_names(s: StackResult) -> set[str]:
    return {step["urn"].split("::")[-1] for step in s.steps}


def _result_text(s: StackResult) -> str:
    if s.result == "planned offline":
        return "planned offline (no credentials here)"
    return s.result


def _stack_section(s: StackResult, values: bool) -> list[str]:
    # A failure is shown open, its message with its own line breaks.
    lines = [f"<details{'' if s.ok else ' open'}><summary><code>{s.stack}</code>: {_result_text(s)}</summary>", ""]
    if s.message:
        lines += ["```", s.message, "```", ""]
    if s.steps:
        lines += ["```diff"]
        for step in s.steps:
            lines += changes.lines(step, values)
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
    # The preview loads the fabric again, and each stack evaluated offline once more: each file is parsed once.
    with reading_once():
        model = fabric.load()
        changed = changed_stacks(model, fabric.project_dir, fabric.fabric_dir, base)
        affected = sorted(dependencies(model).affected(changed)) if changed else []
        # The deployed certificates' dates are read either way: one expires whatever the change.
        result = (fabric.preview(affected) if affected
                  else FabricResult("preview", [], expiring=fabric.certificate_expiry()))
    return render(result, model, changed, base), result
