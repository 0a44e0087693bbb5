"""The fabric's dependency graph for an engine that runs it across machines: a GitHub Actions workflow, or Pulumi
Kubernetes Operator `Stack` resources. clusterfabric schedules nothing across machines itself; on one machine
`clusterfabric up --parallel N` stays.

Both are built as plain data from the one order the fabric layer runs in (components.model.graph.run_waves: the
stacks in waves, and the edges it keeps), then dumped as YAML.

GitHub Actions (docs.github.com/en/actions/reference/limits, "Job Matrix": "A job matrix can generate a maximum
of 256 jobs per workflow run"; "Workflow file size": "A workflow file larger than 500 KB will not start runs"):
up to `MAX_JOBS` stacks, one job per stack whose `needs:` are the jobs of the stacks it reads; beyond, one job
per wave running the wave's stacks as a matrix (at most `MAX_JOBS` a job: a larger wave is split), each needing
the previous wave's jobs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from clusterfabric.components.model import FabricManifests
from clusterfabric.components.model.graph import run_waves

MAX_JOBS = 256
"""GitHub's cap on the jobs a matrix generates in a workflow run; also where one job per stack stops."""

WORKFLOW_FILE = ".github/workflows/fabric-stacks.yml"
"""Where the deploy workflow expects the generated workflow (`clusterfabric graph --format github-actions`)."""

SELECTED = "inputs.stacks == '*' || contains(format(' {{0}} ', inputs.stacks), {needle})"
"""Whether the caller selected a stack (`inputs.stacks`: names separated by spaces, or `*` for every stack)."""

PULUMI_ENV = {"PULUMI_BACKEND_URL": "${{ secrets.PULUMI_BACKEND_URL }}",
              "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
              "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"}
"""What deploy.yml's up step gives `clusterfabric up` (the production environment's secrets)."""


def job_ids(names: list[str]) -> dict[str, str]:
    """A GitHub job id per stack: letters, digits, `-` and `_`, starting with a letter or `_` (GitHub's rule).
    A name that already is one stays; any other becomes `_` + its allowed characters + a hash of the name, so two
    names never share an id."""
    ids: dict[str, str] = {}
    for name in names:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            ids[name] = name
        else:
            ids[name] = "_" + re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return ids


def _steps(stack: str, selected: str | None) -> list[dict[str, Any]]:
    """What deploy.yml's up job does, for the one stack `stack` (an expression in a matrix); `selected`: the
    condition each step runs on (a matrix job's, whose `if:` cannot read the matrix)."""
    steps: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4.2.2"},
        {"uses": "./.github/actions/toolchain"},
        {"name": "AWS credentials by OIDC (the deploy role, when the environment names one)",
         "if": "vars.AWS_DEPLOY_ROLE_ARN != ''", "uses": "aws-actions/configure-aws-credentials@v4.2.1",
         "with": {"role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}", "aws-region": "${{ vars.AWS_REGION }}"}},
        {"name": f"Up {stack}", "env": {**PULUMI_ENV, "STACK": stack}, "run": 'clusterfabric up --stack "$STACK"'},
        {"name": "Its rendered manifests, for the deploy's publishing job", "uses": "actions/upload-artifact@v4.6.2",
         "with": {"name": f"stack-{stack}", "path": f"rendered/{stack}/", "if-no-files-found": "ignore"}},
    ]
    if selected:
        for step in steps:
            step["if"] = f"({selected}) && ({step['if']})" if "if" in step else selected
    return steps


def _job(needs: list[str], condition: str, steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    job: dict[str, Any] = {"name": name}
    if needs:
        job["needs"] = needs
    # A stack not selected is skipped, and a job after it still runs; one after a failed stack does not.
    job.update({"if": f"${{{{ !cancelled() && !failure() && ({condition}) }}}}", "runs-on": "ubuntu-latest",
                "timeout-minutes": 90, "environment": "production",
                "permissions": {"contents": "read", "id-token": "write"}})
    job["steps"] = steps
    return job


def github_workflow(fabric: FabricManifests, max_jobs: int = MAX_JOBS) -> dict[str, Any]:
    """A reusable workflow bringing up the stacks named by its input `stacks`, each on a runner of its own, after
    the stacks it reads: one job per stack, or per wave when the fabric has more than `max_jobs` stacks."""
    waves, edges = run_waves(fabric, fabric.fabric_file)
    names = [n for wave in waves for n in wave]
    jobs: dict[str, Any] = {}
    if len(names) <= max_jobs:
        ids = job_ids(names)
        for name in names:
            jobs[ids[name]] = _job(sorted(ids[n] for n in edges[name]), SELECTED.format(needle=f"' {name} '"),
                                   _steps(name, None), f"up {name}")
    else:
        previous: list[str] = []
        for number, wave in enumerate(waves, 1):
            parts = [wave[i:i + max_jobs] for i in range(0, len(wave), max_jobs)]
            current = []
            for part, stacks in enumerate(parts, 1):
                job_id = f"wave-{number}" + (f"-{part}" if len(parts) > 1 else "")
                job = _job(previous, "true", _steps("${{ matrix.stack }}", SELECTED.format(needle="format(' {0} ', matrix.stack)")),
                           f"up wave {number}" + (f" part {part}" if len(parts) > 1 else "") + " (${{ matrix.stack }})")
                job["strategy"] = {"fail-fast": False, "matrix": {"stack": stacks}}
                jobs[job_id] = job
                current.append(job_id)
            previous = current
    return {
        "name": "clusterfabric stacks",
        "on": {"workflow_call": {"inputs": {"stacks": {
            "description": "the stacks to bring up, separated by spaces; * for every stack",
            "type": "string", "required": True}}}},
        "permissions": {"contents": "read"},
        "defaults": {"run": {"shell": "bash"}},
        "jobs": jobs,
    }


def workflow_text(fabric: FabricManifests, fabric_dir: Path, max_jobs: int = MAX_JOBS) -> str:
    """The workflow file, as `clusterfabric graph --format github-actions --fabric fabric_dir` prints it."""
    return dump([github_workflow(fabric, max_jobs)], (
        f"Generated by `clusterfabric graph --format github-actions` from {fabric_dir / 'fabric.yaml'}: edit that "
        f"and generate it again.\nThe deploy workflow calls it as {WORKFLOW_FILE} (vars.CLUSTERFABRIC_SPREAD == "
        "'true'), and deploys nothing while it is not the fabric's current graph."))


STACK_NAME_LIMIT = 42
"""The operator's CRD: `size(self.metadata.name) <= 42` for a Stack."""


def stack_resource_name(stack: str) -> str:
    """The `Stack` resource's name for a fabric stack (a DNS-1123 label): itself up to the CRD's 42 characters;
    longer, its first 33 and a hash of the whole name."""
    if len(stack) <= STACK_NAME_LIMIT:
        return stack
    return f"{stack[:33].rstrip('-')}-{hashlib.sha256(stack.encode()).hexdigest()[:8]}"


def operator_stacks(fabric: FabricManifests, *, project: str, repo: str, branch: str, repo_dir: str,
                    fabric_path: str, backend: str, namespace: str, secret: str,
                    organization: str) -> list[dict[str, Any]]:
    """One `pulumi.com/v1` `Stack` per cluster stack, its `prerequisites` the Stacks of the stacks it reads.
    Credentials are references to keys of the Secret `secret` in `namespace`, never values."""
    waves, edges = run_waves(fabric, fabric.fabric_file)
    env = {"PULUMI_CONFIG_PASSPHRASE": {"type": "Secret", "secret": {"name": secret,
                                                                     "key": "PULUMI_CONFIG_PASSPHRASE"}}}
    if backend.startswith("https://"):  # a Pulumi Cloud (or self-hosted service) backend takes a token
        env["PULUMI_ACCESS_TOKEN"] = {"type": "Secret", "secret": {"name": secret, "key": "PULUMI_ACCESS_TOKEN"}}
    stacks = []
    for name in (n for wave in waves for n in wave):
        spec: dict[str, Any] = {
            "stack": f"{organization}/{project}/{name}", "projectRepo": repo, "branch": branch,
            "backend": backend, "envRefs": env, "config": {"clusterfabric:fabric": fabric_path},
        }
        if repo_dir not in ("", "."):
            spec["repoDir"] = repo_dir
        if edges[name]:
            spec["prerequisites"] = [{"name": stack_resource_name(n)} for n in sorted(edges[name])]
        stacks.append({"apiVersion": "pulumi.com/v1", "kind": "Stack",
                       "metadata": {"name": stack_resource_name(name), "namespace": namespace,
                                    "labels": {"clusterfabric.io/stack": name, "clusterfabric.io/project": project}},
                       "spec": spec})
    return stacks


class _Dumper(yaml.SafeDumper):
    """YAML as a person writes a workflow: keys in the order given, lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # each Stack and job spelled out, never `*id001`


def dump(documents: list[dict[str, Any]], header: str) -> str:
    """The documents as YAML, `header` (comment lines) first."""
    body = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=1000, explicit_start=len(documents) > 1)
    return "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines()) + body
