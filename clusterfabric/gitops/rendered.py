"""A stack's rendered manifests made into what Argo CD and Flux take as is.

The Kubernetes provider's `renderYamlToDirectory` writes one file per object,
`0-crd/` for CustomResourceDefinitions the stack declares and `1-manifest/` for
the rest, every file mode 0600. A GitOps tool pointed at `rendered/<stack>/`
also needs the CRDs of the custom resources there (ClusterLink's `Export`,
`Import`, ... are not declared by the stack: the cluster is expected to have
them), and a `kustomization.yaml` naming the files, and must be able to read them.

`finish_rendering` adds exactly that after a successful `up` of a rendering
stack. The provider's file names are kept, `default` in those of
cluster-scoped objects included: the provider finds a file by that name again
to update or delete its object, so a renamed file would outlive its object.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import yaml

from .sops import SopsError, encrypt_file

RENDERED_MARKER = ".clusterfabric-rendered"
"""In a render directory: the backend and stack whose `up` wrote it (drift is compared only for those files)."""

CRD_DIR = Path(__file__).resolve().parents[1] / "crds"
"""The upstream CRDs (sources in each folder's SOURCE.md)."""
TOOL_CRDS = ("pulumi-kubernetes-operator",)
"""Folders there holding the CRDs of a tool that deploys the fabric, not of the fabric's own objects: no stack
renders them, and no local control plane needs them."""

KUSTOMIZATION = "kustomization.yaml"
CRD_FOLDER = "0-crd"
MANIFEST_FOLDER = "1-manifest"
READABLE = 0o644
SECRET = 0o600


# What the provider rendered and the upstream CRDs are machine-written and large (a CRD file is up to 500 KB):
# LibYAML's safe loader reads them about ten times faster than the pure-Python one, where PyYAML has it.
# The fabric's own manifests, written by people, keep the strict loader of components/model/yaml_strict.py.
RENDERED_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_rendered(text: str) -> list:
    """The YAML documents of a rendered manifest or an upstream CRD file."""
    return list(yaml.load_all(text, Loader=RENDERED_LOADER))


def _documents(path: Path) -> list[dict]:
    try:
        return [d for d in load_rendered(path.read_text()) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError):
        return []


@functools.cache
def crd_files(crd_dir: Path) -> list[Path]:
    """The YAML files under `crd_dir` but those of `TOOL_CRDS`, sorted."""
    return sorted(p for p in crd_dir.rglob("*.yaml") if not set(TOOL_CRDS) & set(p.relative_to(crd_dir).parts))


def upstream_crds(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], Path]:
    """(group, kind) -> the upstream CRD file defining it; Gateway API's standard channel before its
    experimental one, so an object is given the CRD most clusters run."""
    found: dict[tuple[str, str], Path] = {}
    paths = sorted(crd_files(crd_dir), key=lambda p: ("experimental" in p.parts, str(p)))
    for path in paths:
        for doc in _documents(path):
            if doc.get("kind") == "CustomResourceDefinition":
                found.setdefault((doc["spec"]["group"], doc["spec"]["names"]["kind"]), path)
    return found


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def is_generated(render_directory: Path, path: Path, crd_dir: Path = CRD_DIR) -> bool:
    """Whether `finish_rendering` wrote `path` (not the provider): drift checks leave these files alone."""
    relative = path.relative_to(render_directory)
    if relative == Path(KUSTOMIZATION):
        return True
    return relative.parent == Path(CRD_FOLDER) and relative.name in _crd_file_names(crd_dir)


@functools.cache
def _crd_file_names(crd_dir: Path) -> frozenset[str]:
    return frozenset(p.name for p in upstream_crds(crd_dir).values())


def finish_rendering(render_directory: Path, crd_dir: Path = CRD_DIR) -> list[str]:
    """Write the CRDs the stack's objects need into 0-crd/, make every file but a Secret's readable
    (0644; Secrets stay 0600), and write kustomization.yaml listing every file. Returns that list.
    Idempotent: run after every successful `up`, so an object gone takes its CRD along."""
    crds = upstream_crds(crd_dir)
    provider_files = [p for p in sorted(render_directory.rglob("*.yaml")) if not is_generated(render_directory, p,
                                                                                                crd_dir)]
    declared_crds, needed = set(), set()
    for path in provider_files:
        for doc in _documents(path):
            if doc.get("kind") == "CustomResourceDefinition":
                declared_crds.add((doc["spec"]["group"], doc["spec"]["names"]["kind"]))
            key = (_group(doc.get("apiVersion", "")), doc.get("kind", ""))
            if key in crds:
                needed.add(key)
            os.chmod(path, SECRET if doc.get("kind") == "Secret" else READABLE)
    crd_folder = render_directory / CRD_FOLDER
    wanted = {crds[key].name: crds[key] for key in needed - declared_crds}
    for stale in (p for p in crd_folder.glob("*.yaml") if is_generated(render_directory, p, crd_dir)):
        if stale.name not in wanted:
            stale.unlink()
    for name, source in wanted.items():
        crd_folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, crd_folder / name)
        os.chmod(crd_folder / name, READABLE)
    resources = sorted(str(p.relative_to(render_directory)) for p in render_directory.rglob("*.yaml")
                       if p.name != KUSTOMIZATION or p.parent != render_directory)
    _write_kustomization(render_directory, resources)
    return resources


@dataclass
class Published:
    """What `publish` wrote: the files (as the kustomization lists them), and how many Secrets went in encrypted or
    were left out."""

    files: list[str]
    encrypted: int = 0
    left_out: int = 0


def publish(render_directory: Path, destination: Path, recipients: Sequence[str] = ()) -> Published:
    """Copy a finished stack's manifests to `destination` for a GitOps repository or branch, with a
    kustomization.yaml listing what was copied. Its Secrets (plaintext key material) go in encrypted with SOPS
    for the age `recipients` (only `data` and `stringData`, as Flux decrypts them), or, with no recipient, are
    left out (docs/secrets.md); never in plaintext."""
    shutil.rmtree(destination, ignore_errors=True)  # what the stack no longer declares goes too
    published = Published([])
    for path in sorted(render_directory.rglob("*.yaml")):
        relative = path.relative_to(render_directory)
        if relative == Path(KUSTOMIZATION):
            continue
        secret = any(d.get("kind") == "Secret" for d in _documents(path))
        if secret and not recipients:
            published.left_out += 1
            continue
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        if secret:
            encrypt_file(path, destination / relative, list(recipients))
            published.encrypted += 1
        else:
            shutil.copyfile(path, destination / relative)
        os.chmod(destination / relative, READABLE)
        published.files.append(str(relative))
    _write_kustomization(destination, published.files)
    return published


CRDS_FIRST = {"target": {"kind": "CustomResourceDefinition"},
              "patch": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
                       "  name: any\n  annotations:\n    argocd.argoproj.io/sync-wave: \"-1\"\n"}
"""Argo CD applies the CRDs in an earlier sync wave than the objects of their kinds (its sync waves: lower first,
each wave healthy before the next), so one sync of the folder works the first time. Flux's kustomize-controller
applies CustomResourceDefinitions in a stage of their own before the rest anyway (fluxcd/pkg/ssa's
ApplyAllStaged); the annotation means nothing to it."""


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (the patch) as YAML literal blocks, as a person writes them."""


_BlockDumper.add_representer(str, lambda dumper, s: dumper.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def _write_kustomization(directory: Path, resources: list[str]) -> None:
    kustomization = directory / KUSTOMIZATION
    content = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
    if any(r.startswith(CRD_FOLDER + "/") for r in resources):
        content["patches"] = [CRDS_FIRST]
    kustomization.write_text("# Written by clusterfabric: every manifest of this stack, for Argo CD or Flux.\n"
                             + yaml.dump(content, Dumper=_BlockDumper, sort_keys=False))
    os.chmod(kustomization, READABLE)


def owner_mark(backend: str, stack: str) -> str:
    """What RENDERED_MARKER holds for `stack` of `backend`."""
    return json.dumps({"backend": backend, "stack": stack}) + "\n"


def finish_folder(directory: Path, owner: str) -> None:
    """After a successful `up` of a rendering stack: `finish_rendering`, then mark the folder as `owner`'s, so
    later drift checks know the files are its own."""
    if directory.is_dir():
        finish_rendering(directory)
        (directory / RENDERED_MARKER).write_text(owner)


def _secrets(count: int) -> str:
    return f"its {count} Secret{'' if count == 1 else 's'}"


def main(argv: list[str] | None = None) -> None:
    """python -m clusterfabric.gitops.rendered RENDERED DESTINATION [--fabric DIR]: what CI publishes."""
    import argparse

    from clusterfabric.components.contract import default_fabric_dir
    from clusterfabric.components.model.errors import InputError
    from clusterfabric.components.model.load import load_fabric_spec

    parser = argparse.ArgumentParser(prog="python -m clusterfabric.gitops.rendered",
                                     description="Publish each stack's rendered folder (one with a kustomization.yaml) "
                                                 "as Argo CD and Flux take it, files readable: its Secrets encrypted "
                                                 "with SOPS for the cluster's gitops.sopsAgeRecipients in fabric.yaml, "
                                                 "or left out when it has none.")
    parser.add_argument("rendered", type=Path, help="the folder holding rendered/<stack>/ folders")
    parser.add_argument("destination", type=Path, help="where each stack's published folder goes")
    parser.add_argument("--fabric", type=Path, default=default_fabric_dir(Path(".")),
                        help="the fabric whose fabric.yaml names each cluster's age recipients "
                             "(default: the current directory when it holds a fabric.yaml, else config)")
    args = parser.parse_args(argv)
    if not args.rendered.is_dir():
        parser.error(f"{args.rendered}: no such folder")
    try:
        spec = load_fabric_spec(args.fabric)
    except InputError as error:
        parser.exit(1, f"{error}\n")
    clusters = {c.name: c for c in spec.clusters}
    for stack in sorted(p for p in args.rendered.iterdir() if (p / KUSTOMIZATION).is_file()):
        cluster = clusters.get(stack.name)
        recipients = cluster.gitops.sopsAgeRecipients if cluster else []
        try:
            published = publish(stack, args.destination / stack.name, recipients)
        except SopsError as error:
            parser.exit(1, f"{stack.name}: {error}\n")
        line = f"{stack.name}: {len(published.files)} manifests published"
        if published.encrypted:
            line += (f", {_secrets(published.encrypted)} among them encrypted with SOPS for "
                     f"{len(recipients)} age recipient{'s' if len(recipients) > 1 else ''}")
        if published.left_out:
            why = (f"no gitops.sopsAgeRecipients for cluster {stack.name}" if cluster
                   else f"no cluster {stack.name}") + f" in {args.fabric / 'fabric.yaml'}"
            line += f"; {_secrets(published.left_out)} left out ({why}: docs/secrets.md)"
        print(line)


if __name__ == "__main__":
    main()
