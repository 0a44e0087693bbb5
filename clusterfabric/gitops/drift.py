"""Drift of rendered manifests: files edited, deleted or added by hand since the stack wrote them.

A rendering stack's Kubernetes provider cannot refresh (there is no cluster to
read), but the state holds, for each object, exactly what it wrote: the
resource's outputs are the file's content. So drift is the difference between
the state and the files, and `up` restores a drifted object by replacing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clusterfabric.components.model.json_values import DESCEND, is_secret, rebuilt

from .rendered import RENDERED_MARKER, is_generated, load_rendered


@dataclass(frozen=True)
class Drift:
    what: str  # Kind/namespace/name
    change: str  # edited | deleted | added
    path: str
    urn: str | None  # the resource to replace to restore it (None for a file no resource wrote)

    def __str__(self) -> str:
        restore = "`up` restores it" if self.urn else "no resource of the stack wrote it: remove it"
        return f"rendered manifest {self.path} ({self.what}) was {self.change} by hand; {restore}"


def _revealed(value: Any) -> Any:
    """A state value with its secrets opened (`stack export --show-secrets` wraps them in an envelope)."""
    return rebuilt(value, lambda v: _revealed(json.loads(v["plaintext"])) if is_secret(v) and "plaintext" in v
                   else DESCEND)


def object_key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")


def object_name(key: tuple[str, str, str, str]) -> str:
    return f"{key[1]}/{key[2] or '-'}/{key[3]}"


def rendered_drift(deployment: dict[str, Any], render_directory: Path) -> list[Drift]:
    """Every difference between the objects in the state and the files in `render_directory`."""
    expected: dict[tuple, tuple[str, dict]] = {}
    for resource in deployment.get("resources", []):
        outputs = _revealed(resource.get("outputs") or {})
        if resource.get("type", "").startswith("kubernetes:") and resource.get("custom") and "kind" in outputs:
            obj = {k: v for k, v in outputs.items() if not k.startswith("__")}
            expected[object_key(obj)] = (resource["urn"], obj)
    found: dict[tuple, tuple[Path, Any]] = {}
    for path in sorted(render_directory.rglob("*.yaml")) if render_directory.is_dir() else []:
        if is_generated(render_directory, path):  # CRDs and kustomization.yaml: written for GitOps, not by the stack
            continue
        try:
            [doc] = load_rendered(path.read_text()) or [None]
        except (OSError, ValueError, yaml.YAMLError):  # ValueError: more than one document, none of ours
            doc = None
        key = object_key(doc) if isinstance(doc, dict) else ("", "", "", path.name)
        found[key] = (path, doc)
    drift = []
    for key, (urn, obj) in sorted(expected.items()):
        if key not in found:
            drift.append(Drift(object_name(key), "deleted", "(missing)", urn))
        elif found[key][1] != obj:
            drift.append(Drift(object_name(key), "edited", str(found[key][0]), urn))
    for key, (path, _) in sorted(found.items()):
        if key not in expected:
            drift.append(Drift(object_name(key), "added", str(path), None))
    return drift


def folder_drift(deployment: dict, directory: Path, owner: str) -> tuple[list[Drift], str]:
    """Differences between a stack's state and its rendered folder, and why they are not hand changes ("" when
    they are). Only files the stack's own `up` on this backend wrote here can be changed by hand: a fresh checkout
    has none (the manifests live where the stack was deployed), and another backend's stack of the same name
    writes the same folder. The differences are returned either way: an `up` rewrites what is missing."""
    marker = directory / RENDERED_MARKER
    differences = rendered_drift(deployment, directory)
    if not marker.is_file():
        return differences, (f"drift not compared: no manifests rendered by this backend's `up` in {directory} "
                             "(a fresh checkout, or rendered elsewhere)")
    if marker.read_text() != owner:
        return differences, f"drift not compared: the manifests in {directory} were rendered by another backend's stack"
    return differences, ""
