"""`clusterfabric init DIR`: a fabric repository of a team's own, outside this project.

It writes what is missing and keeps every file already there (a fabric.yaml and cluster folders made by hand stay
as they are):

- fabric.yaml: one ClusterLink cluster to start from and a VPC Lattice one commented out, each field explained;
  a folder per cluster for its manifests;
- Pulumi.yaml and __main__.py: the directory is the fabric's Pulumi project (project.py), whose program is the
  installed package's, so `pulumi up --stack <cluster>` works there as `clusterfabric up` does;
- .gitignore: the local state and passphrase (.pulumi/), the stacks' settings files (this machine's encryption
  salt) and the rendered Secrets (private keys in plain text) stay out of git;
- .github/: this project's workflows (pull-request preview, its comment, deploy on main, the daily drift check)
  and actions as they are, with a toolchain action that installs this version of clusterfabric and the Pulumi
  versions it pins, and the stack workflow a large fabric's deploy spreads its stacks with, generated from the
  fabric's own graph (`clusterfabric graph --format github-actions`).

The stacks of this fabric that an earlier release kept in another project move here too (stack_move.py, run
by the CLI's `init`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import clusterfabric

from ..gitops.emit import WORKFLOW_FILE, workflow_text
from ..gitops.sops import SOPS_VERSION
from ..toolchain import PROJECT_DIR
from .project import PROJECT_FILE

GENERATED_WORKFLOW = WORKFLOW_FILE.removeprefix(".github/")
"""The stack workflow: generated from the fabric's own graph, never this repository's copy."""

PROGRAM = '''"""This fabric's stacks: one per cluster of fabric.yaml, the stack named as the cluster (`clusterfabric up`, or
`pulumi up --stack <cluster>` here). The program is the installed clusterfabric package's."""

from clusterfabric.components.program import main

main()
'''

GITIGNORE = """# clusterfabric: what stays on this machine.
# The local backend's state and the passphrase that encrypts its secrets (a shared backend: PULUMI_BACKEND_URL).
/.pulumi/
# Local control planes (`clusterfabric apiservers start`): their etcd data, keys and kubeconfigs.
/.apiservers/
# Each stack's settings: this machine's encryption salt; clusterfabric writes them on every run.
/Pulumi.*.yaml
# Rendered Secrets hold private keys in plain text; the deploy workflow publishes the manifests without them.
/rendered/*/1-manifest/v1-secret-*.yaml
/published/
/pr/
__pycache__/
"""

FABRIC = """# The fabric: each cluster is one Pulumi stack of the same name, and its manifests (ClusterLink's Export,
# Import, Peer, AccessPolicy; the AWS Gateway API Controller's ServiceExport, ServiceImport and routes; the
# Services they share) are the YAML files in the folder of that name beside this file.
# `clusterfabric validate` checks it all offline; `clusterfabric up` deploys it (rendered to rendered/<cluster>
# by default), `clusterfabric preview` shows what would change.
name: {name}
clusters:
  # A ClusterLink cluster. Its platform (control and data planes, certificates, RBAC) comes with it.
  - name: east
    dataplane: clusterlink
    clusterlink:
      # How other clusters reach this one's data plane: required once another cluster imports from it.
      gateway: {{host: clusterlink.east.example.com, port: 443}}
      # The Service in front of the data plane: LoadBalancer (default), ClusterIP, or NodePort (port: the node port).
      ingress: {{type: LoadBalancer, port: 443}}
      # The data plane ClusterLink runs: envoy (default) or go.
      dataplane: {{type: envoy}}

  # A VPC Lattice cluster: uncomment, fill in its AWS account, Region and VPC, and make a folder named as it.
  # - name: west
  #   dataplane: lattice
  #   lattice:
  #     accountId: "111122223333"
  #     region: us-west-2
  #     vpcId: vpc-0a1b2c3d4e5f60001
  #     # Where Lattice sends traffic: ip (these addresses), instance (an Auto Scaling group) or alb.
  #     targets: {{mode: ip, ips: [10.2.1.10]}}
  #     securityGroupIds: [sg-0a1b2c3d4e5f60001]
"""

FOLDER_README = """# {cluster}

The manifests of cluster `{cluster}`: every `*.yaml` file in this folder (subfolders too) is one of its inputs.
`clusterfabric validate` names the file, object and field of anything it refuses.
"""

TOOLCHAIN_ACTION = """# The toolchain a fabric job needs on a GitHub runner: clusterfabric {version}, the version
# that made this repository (`clusterfabric init`), with the Pulumi CLI and providers it pins.
name: clusterfabric toolchain
description: Python, clusterfabric {version}, the Pulumi CLI and the providers for preview/up/comment
inputs:
  offline:
    description: "true: clusterfabric alone, for an offline plan (no CLI, no providers)"
    default: "false"
  sops:
    description: "true: also sops {sops}, which the deploy's publisher encrypts the Secrets with"
    default: "false"
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5.6.0
      with:
        python-version: "3.11"
    - name: clusterfabric {version} in a virtualenv on PATH
      shell: bash
      run: |
        python -m venv "$RUNNER_TEMP/clusterfabric"
        "$RUNNER_TEMP/clusterfabric/bin/python" -m pip install --disable-pip-version-check clusterfabric=={version}
        echo "$RUNNER_TEMP/clusterfabric/bin" >> "$GITHUB_PATH"
    - if: inputs.offline != 'true'
      uses: pulumi/actions@v6.6.1  # installs the CLI only (no command given)
      with:
        pulumi-version: {pulumi}
    - name: The Kubernetes and AWS provider plugins clusterfabric {version} pins
      if: inputs.offline != 'true'
      shell: bash
      run: |
        pulumi plugin install resource kubernetes {kubernetes}
        pulumi plugin install resource aws {aws}
    - if: inputs.offline != 'true' && inputs.sops == 'true'
      uses: actions/setup-go@v5.5.0
      with:
        go-version: "1.26"
        cache: false
    - name: sops {sops}, built with go install from the Go module proxy (the deploy publishes Secrets with it)
      if: inputs.offline != 'true' && inputs.sops == 'true'
      shell: bash
      run: |
        GOBIN="$RUNNER_TEMP/sops" go install github.com/getsops/sops/v3/cmd/sops@{sops}
        echo "$RUNNER_TEMP/sops" >> "$GITHUB_PATH"
"""


@dataclass(frozen=True)
class Written:
    path: Path
    kept: bool
    """True when the file was there already and left as it was."""


def init_fabric(directory: Path) -> list[Written]:
    """Make `directory` a fabric repository (creating it if needed); what was written and what was kept."""
    directory.mkdir(parents=True, exist_ok=True)
    name = _fabric_name(directory)
    files = {
        directory / "fabric.yaml": FABRIC.format(name=name),
        directory / PROJECT_FILE: _project_file(name),
        directory / "__main__.py": PROGRAM,
        directory / ".gitignore": GITIGNORE,
        directory / ".github" / "actions" / "toolchain" / "action.yml": _toolchain_action(),
    }
    github = _shipped_github()
    shipped = [*sorted((github / "workflows").glob("*.yml")), *sorted((github / "actions").glob("*/action.yml"))]
    for path in shipped:  # every workflow and action: a new one reaches the fabric repositories without a change here
        if path.relative_to(github).as_posix() not in (GENERATED_WORKFLOW, "actions/toolchain/action.yml"):
            files[directory / ".github" / path.relative_to(github)] = path.read_text()
    written = [_write(path, text) for path, text in files.items()]
    from clusterfabric.components.model import load_fabric
    from clusterfabric.components.model.load import load_fabric_spec  # the fabric.yaml kept or just written

    for cluster in load_fabric_spec(directory).clusters:
        folder = directory / cluster.name
        if not folder.exists():
            written.append(_write(folder / "README.md", FOLDER_README.format(cluster=cluster.name)))
    # This fabric's own stack workflow, as `clusterfabric graph --format github-actions` prints it there.
    workflow = workflow_text(load_fabric(directory), Path("."))
    written.append(_write(directory / ".github" / GENERATED_WORKFLOW, workflow))
    return written


def _write(path: Path, text: str) -> Written:
    if path.exists():
        return Written(path, kept=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return Written(path, kept=False)


def _fabric_name(directory: Path) -> str:
    """The directory's name as a DNS-1123 label (the fabric's and the Pulumi project's name)."""
    label = re.sub(r"[^a-z0-9-]+", "-", directory.resolve().name.lower()).strip("-")[:63].strip("-")
    return label or "fabric"


def _project_file(name: str) -> str:
    return (f"# The fabric's Pulumi project: one stack per cluster of fabric.yaml, the program the installed\n"
            f"# clusterfabric package's (__main__.py). Its name is part of every stack's name and URN: keep it.\n"
            f"name: {name}\n"
            f"description: Services shared between Kubernetes clusters, one stack per cluster (clusterfabric).\n"
            f"runtime:\n  name: python\n  options:\n    toolchain: pip\n"
            f"# The stacks' state in .pulumi/state here, unless PULUMI_BACKEND_URL names a shared backend (CI).\n"
            f"backend:\n  url: file://./.pulumi/state\n")


def _toolchain_action() -> str:
    return TOOLCHAIN_ACTION.format(version=metadata.version("clusterfabric"), pulumi=metadata.version("pulumi"),
                                   kubernetes=metadata.version("pulumi-kubernetes"),
                                   aws=metadata.version("pulumi-aws"), sops=SOPS_VERSION)


def _shipped_github() -> Path:
    """This project's .github folder: shipped in the wheel as clusterfabric/github, in a checkout where it is."""
    shipped = Path(clusterfabric.__file__).parent / "github"
    return shipped if shipped.is_dir() else PROJECT_DIR / ".github"
