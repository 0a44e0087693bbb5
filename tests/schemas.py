"""Validating what the program emits against the schemas Kubernetes itself uses.

- CRs against the upstream CRDs in clusterfabric/crds (their openAPIV3Schema);
- core objects against the Kubernetes OpenAPI schema that the Kubernetes
  provider module ships (copied by scripts/setup to .tools/schemas).

Both are made strict: a field the schema does not know is an error, as with
the API server's strict field validation (otherwise it would silently drop it).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml

from clusterfabric.toolchain import PROJECT_DIR

CRD_DIR = PROJECT_DIR / "clusterfabric" / "crds"
KUBERNETES_OPENAPI = PROJECT_DIR / ".tools" / "schemas" / "kubernetes-openapi.json"


def _strict(schema: Any) -> Any:
    """Forbid unknown properties wherever a schema lists its properties."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema \
                and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
        if schema.get("format") == "int-or-string":
            schema.pop("type", None)
            schema["type"] = ["integer", "string"]
        return schema
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    return schema


@functools.cache
def _crds() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(CRD_DIR.rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            found[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    if not found:
        raise AssertionError(f"no CRDs found under {CRD_DIR}: they are part of the repository")
    return found


@functools.cache
def _openapi() -> dict[str, Any]:
    if not KUBERNETES_OPENAPI.is_file():
        raise AssertionError(f"{KUBERNETES_OPENAPI} is missing: run scripts/setup")
    return json.loads(KUBERNETES_OPENAPI.read_text())


@functools.cache
def _core_definitions() -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    definitions = _strict(copy.deepcopy(_openapi()["definitions"]))
    by_kind = {}
    for name, definition in _openapi()["definitions"].items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            by_kind[(api_version, gvk["kind"])] = name
    return definitions, by_kind


def errors(obj: dict[str, Any]) -> list[str]:
    """Schema errors of one object, as `path: message`; empty when valid."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in _crds():
        schema = _strict(_crds()[key])
        # The CRD leaves metadata open; hold it to ObjectMeta like the API server does.
        definitions, _ = _core_definitions()
        schema["properties"]["metadata"] = {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        schema["definitions"] = definitions
    else:
        definitions, by_kind = _core_definitions()
        if key not in by_kind:
            return [f"-: no schema for {key[0]}/{key[1]}"]
        schema = {"$ref": f"#/definitions/{by_kind[key]}", "definitions": definitions}
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '-'}: {e.message}" for e in validator.iter_errors(obj)]


def rendered_objects(directory: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(directory.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path, doc
