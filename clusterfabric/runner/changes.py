"""What one planned resource step changes, as plain data (`change`), and the lines that show it (`lines`): the one
representation the CLI's preview and the pull-request comment both print.

A change is a dict: `op`, `urn`, `type`, `name` (the resource's), `diffs` (the changed property paths), `key` (what
a created or deleted Kubernetes object is: "Kind namespace/name"), `fields` (each changed property: `path`, `old`,
`new`, the values as text, secrets masked) and `replaces` (the properties that force a replacement).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pulumi import automation as auto

from clusterfabric.components.model.json_values import DESCEND, is_secret, rebuilt

SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "+-", "create-replacement": "++",
          "delete-replaced": "--", "import": "=", "import-replacement": "=>"}
REPLACEMENT = ("replace", "create-replacement", "delete-replaced")
"""The steps of one replacement: shown as one `replace` of the object."""
SECRET = "[secret]"
UNKNOWN = "[unknown]"
"""A value a preview does not know yet (the engine's unknown sentinel): it is computed when the change is made."""
ABSENT = "(none)"
_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
WIDTH = 60
"""The longest value shown; longer ones are cut in the middle."""
FIELDS = 8
"""The most changed fields shown per object; the rest are counted."""


def change(meta: auto.events.StepEventMetadata) -> dict[str, Any]:
    """The change one engine step (a `ResourcePreEvent`'s metadata) plans, as plain data."""
    op = _value(meta.op)
    old = meta.old.inputs if meta.old else None
    new = meta.new.inputs if meta.new else None
    detailed = {path: (_value(d.diff_kind), d.input_diff) for path, d in (meta.detailed_diff or {}).items()}
    paths = sorted(detailed) or list(meta.diffs or []) or (_differing(old, new) if old and new else [])
    fields = [] if op in ("create", "delete") else [
        _field(path, meta, *detailed.get(path, ("update", True))) for path in paths]
    forcing = [p for p, (kind, _) in detailed.items() if kind.endswith("-replace")] or list(meta.keys or [])
    return {"op": op, "urn": meta.urn, "type": meta.type, "name": meta.urn.split("::")[-1], "diffs": paths,
            "key": _key(new if op == "create" else old) if op in ("create", "delete") else "",
            "fields": fields, "replaces": sorted(forcing) if op in REPLACEMENT else []}


def merged(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """One object's replacement, of its steps (create-replacement, replace, delete-replaced) in any order."""
    fields = {f["path"]: f for f in earlier["fields"] + later["fields"]}
    return {**earlier, "op": "replace", "diffs": sorted(set(earlier["diffs"]) | set(later["diffs"])),
            "fields": [fields[p] for p in sorted(fields)],
            "replaces": sorted(set(earlier["replaces"]) | set(later["replaces"]))}


def lines(step: dict[str, Any], values: bool = True) -> list[str]:
    """How a change is shown: a line naming the object (what a create or delete makes or removes; what forces a
    replacement), then, when `values`, a line per changed field, `path: old -> new`, at most FIELDS of them."""
    head = f"{SYMBOL.get(step['op'], step['op'])} {step['type']} {step['urn'].split('::')[-1]}"
    if step.get("key"):
        head += f": {step['key']}"
    if step.get("replaces"):
        head += f" (replacement forced by {', '.join(step['replaces'])})"
    fields = step.get("fields") or []
    if not values or not fields:
        diffs = step.get("diffs") or []
        return [head + (f" ({', '.join(diffs)})" if diffs and step["op"] not in ("create", "delete") else "")]
    shown = [f"    {f['path']}: {_short(f['old'])} -> {_short(f['new'])}" for f in fields[:FIELDS]]
    if len(fields) > FIELDS:
        shown.append(f"    ... and {len(fields) - FIELDS} more fields")
    return [head, *shown]


def _value(enum: Any) -> str:
    return str(enum.value if hasattr(enum, "value") else enum)


def _field(path: str, meta: auto.events.StepEventMetadata, kind: str, input_diff: bool) -> dict[str, str]:
    """A changed property's old and new value: the old from the state the provider compared with (the old inputs
    for an input diff, else its outputs), the new from the program's inputs."""
    old_states = (meta.old.inputs, meta.old.outputs) if meta.old else ()
    if not input_diff:
        old_states = old_states[::-1]
    new_states = (meta.new.inputs, meta.new.outputs) if meta.new else ()
    old = ABSENT if kind.startswith("add") else _found(old_states, path)
    new = ABSENT if kind.startswith("delete") else _found(new_states, path)
    return {"path": path, "old": old, "new": new}


def _found(states: tuple[Any, ...], path: str) -> str:
    for state in states:
        value = _at(state, _segments(path))
        if value is not _MISSING:
            return _text(value)
    return ABSENT


_MISSING = object()
_SEGMENT = re.compile(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.\[]+)')


def _segments(path: str) -> list[str | int]:
    """A Pulumi property path, `spec.ports[0].port` or `metadata.labels["app.kubernetes.io/name"]`, in parts."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if not match:
            return [path]
        index, quoted, name = match.groups()
        parts.append(int(index) if index is not None else json.loads(f'"{quoted}"') if quoted is not None else name)
        position = match.end()
    return parts


def _at(value: Any, parts: list[str | int]) -> Any:
    for part in parts:
        if is_secret(value):
            return value  # a secret's parts are the secret too
        if isinstance(value, Mapping) and isinstance(part, str) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    """A value as shown: secrets (anywhere in it) masked, a plain string as it is, anything else as compact JSON."""
    value = _masked(value)
    if isinstance(value, str) and value and value.strip() == value and "\n" not in value:
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _masked(value: Any) -> Any:
    return rebuilt(value, lambda v: SECRET if is_secret(v) else UNKNOWN if v == _UNKNOWN_SENTINEL else DESCEND)


def _short(text: str) -> str:
    if len(text) <= WIDTH:
        return text
    keep = (WIDTH - 3) // 2
    return f"{text[:keep]}...{text[-(WIDTH - 3 - keep):]}"


def _differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The top-level inputs that differ, when the engine gave no diff of its own."""
    return sorted(k for k in set(old) | set(new) if not k.startswith("__") and old.get(k) != new.get(k))


def _key(inputs: Mapping[str, Any] | None) -> str:
    """What a Kubernetes object is: its kind and namespace/name (a cluster-scoped one: its name); "" for other
    resources, which their type and name already say."""
    if not inputs or "kind" not in inputs or not isinstance(inputs.get("metadata"), Mapping):
        return ""
    metadata = inputs["metadata"]
    name = "/".join(_text(metadata[k]) for k in ("namespace", "name") if k in metadata)
    return f"{_text(inputs['kind'])} {name}".strip()
