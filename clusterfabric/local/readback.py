"""Read back what a stack applied: each Kubernetes object in its state, as the API server has it now.

The comparison is "declared is contained in live": every field the program
declared must be in the live object with the same value (the server adds
defaults, status and metadata of its own, which are not differences). Secret
values are not opened: the state keeps them encrypted, so a Secret is compared
by its keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from clusterfabric.components.model.json_values import is_secret

from ..gitops.drift import object_key, object_name
from .kubeapi import KubeClient, KubeError


@dataclass(frozen=True)
class Difference:
    what: str  # Kind/namespace/name
    field: str
    declared: Any
    live: Any

    def __str__(self) -> str:
        if self.field == "":
            return f"{self.what}: declared, but not on the API server"
        return f"{self.what}: {self.field}: declared {self.declared!r}, API server has {self.live!r}"


_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
           "Ti": 2**40}


def _quantity(value: str) -> float | None:
    """A Kubernetes quantity's value ("500m" and "0.5" are the same CPU); None when not a quantity."""
    match = _QUANTITY.match(value)
    if not match or match.group(2) not in _SUFFIX:
        return None
    try:
        return float(match.group(1)) * _SUFFIX[match.group(2)]
    except ValueError:
        return None


def _same(declared: Any, live: Any) -> bool:
    if declared == live:
        return True
    if isinstance(declared, str) and isinstance(live, str):
        a, b = _quantity(declared), _quantity(live)
        return a is not None and a == b
    return False


def contained(declared: Any, live: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(field, declared, live) for each declared value the live object lacks or differs on."""
    if is_secret(declared):
        if live is None:
            yield path, "[secret]", None
        return
    if declared in (None, {}, []):
        return  # an empty declaration: the server drops it
    if isinstance(declared, dict):
        if not isinstance(live, dict):
            yield path, declared, live
            return
        for key, value in declared.items():
            yield from contained(value, live.get(key), f"{path}.{key}" if path else key)
    elif isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            yield path, declared, live
            return
        for index, (value, other) in enumerate(zip(declared, live)):
            yield from contained(value, other, f"{path}[{index}]")
    elif not _same(declared, live):
        yield path, declared, live


def declared_objects(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The Kubernetes objects a stack's state says it applied: their declared inputs."""
    found = []
    for resource in deployment.get("resources", []):
        inputs = resource.get("inputs") or {}
        if resource.get("custom") and resource.get("type", "").startswith("kubernetes:") and "kind" in inputs:
            found.append({k: v for k, v in inputs.items() if not k.startswith("__")})
    return found


def read_back(client: KubeClient, deployment: dict[str, Any]) -> tuple[int, list[Difference]]:
    """(objects compared, differences) between a stack's declared objects and the API server's."""
    objects = declared_objects(deployment)
    differences = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        name = object_name(object_key(obj))
        try:
            live = client.read(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except KeyError:
            differences.append(Difference(name, "", obj, None))
            continue
        except KubeError as err:
            differences.append(Difference(name, "", obj, str(err)))
            continue
        declared = dict(obj)
        if obj["kind"] == "Secret" and "stringData" in declared:
            # The server merges stringData into data and never returns it: compare its keys there.
            keys = declared.pop("stringData")
            keys = {} if _is_secret(keys) else keys
            missing = sorted(set(keys) - set(live.get("data") or {}))
            differences += [Difference(name, f"data.{k}", "[declared]", None) for k in missing]
        differences += [Difference(name, field, d, l) for field, d, l in contained(declared, live)]
    return len(objects), differences
