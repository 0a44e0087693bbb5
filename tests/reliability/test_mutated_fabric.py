"""Property: whatever is done to the example fabric's manifests, `validate` refuses it cleanly or the plan succeeds.

Hypothesis mutates a copy of `config/` as a careless or hostile user would:
other types and odd strings in any field, fields dropped or added, values
wrapped in a list or a mapping, objects duplicated or moved to another
cluster, a line written twice (a duplicate key, mostly). Then either
`validate` refuses it with one `FILE: KIND/NAMESPACE/NAME: FIELD: message`
line per problem and nothing else (no traceback, no internal error), or the
offline plan of the clusters touched (and those depending on them) succeeds.

Bounded and reproducible: a fixed number of examples, derandomized (the same
examples in every run), no example database.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterfabric.runner.cli import validate
from clusterfabric.offline.plan import dependencies, load_fabric, plan
from clusterfabric.toolchain import PROJECT_DIR

EXAMPLE = PROJECT_DIR / "config"
EXAMPLES = 50
FILES = sorted(str(p.relative_to(EXAMPLE)) for p in EXAMPLE.rglob("*.yaml"))
DOCUMENTS = {f: list(yaml.safe_load_all((EXAMPLE / f).read_text())) for f in FILES}
CLUSTERS = sorted({f.split("/")[0] for f in FILES if "/" in f})

Path_ = tuple[Any, ...]  # keys and indexes from a document's root


def paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every place in a document, the root excluded."""
    found: list[Path_] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def _value(doc: Any, path: Path_) -> Any:
    for key in path:
        doc = doc[key]
    return doc


PLACES = [(f, i, p) for f in FILES for i, doc in enumerate(DOCUMENTS[f]) for p in paths(doc)]
SCALARS = sorted({repr(v): v for f, i, p in PLACES for v in [_value(DOCUMENTS[f][i], p)]
                  if not isinstance(v, (dict, list))}.values(), key=repr)
"""Every value the example writes: swapped into another place, most are plausible, and some pass `validate`."""
ODD = [None, 0, -1, 65536, 1.5, True, "", " ", "80", "x\n", "Upper_Case", "two words", "a;b", "../../etc/passwd",
       "é", "\t", "x" * 300, [], {}, [None], {"x": 1}]
odd_values = st.one_of(st.sampled_from(ODD), st.integers(-3, 70000), st.text(max_size=12))


def at(doc: Any, path: Path_) -> tuple[Any, Any]:
    """(the container holding the place, its key or index)."""
    for key in path[:-1]:
        doc = doc[key]
    return doc, path[-1]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, ...]:
    kind = draw(st.sampled_from(["swap", "swap", "swap", "drop", "drop", "set", "wrap", "add field",
                                 "duplicate object", "move object", "repeat line"]))
    file, index, path = draw(st.sampled_from(PLACES))
    if kind == "swap":
        return ("set", file, index, path, draw(st.sampled_from(SCALARS)))
    if kind == "set":
        return (kind, file, index, path, draw(odd_values))
    if kind == "add field":
        return (kind, file, index, path, draw(st.sampled_from(["extra", "metadata", "spec", "port", "name"])),
                draw(odd_values))
    if kind == "move object":
        return (kind, file, index, path, draw(st.sampled_from(CLUSTERS)))
    if kind == "repeat line":
        return (kind, file, index, path, draw(st.integers(0, 200)))
    return (kind, file, index, path)


def mutate(fabric: Path, documents: dict[str, list[Any]], change: tuple) -> set[str]:
    """Apply one mutation; the names of the clusters whose folders changed ("*" for fabric.yaml)."""
    kind, file, index, path, *args = change
    docs = documents[file]
    touched = {file.split("/")[0] if "/" in file else "*"}
    if docs is None or index >= len(docs) or not _reachable(docs[index], path):
        return set()
    container, key = at(docs[index], path)
    if kind == "set":
        container[key] = args[0]
    elif kind == "drop":
        del container[key]
    elif kind == "wrap":
        container[key] = [container[key]] if index % 2 else {"value": container[key]}
    elif kind == "add field":
        target = container[key] if isinstance(container[key], dict) else container
        if isinstance(target, dict):
            target[args[0]] = args[1]
    elif kind == "duplicate object":
        docs.append(copy.deepcopy(docs[index]))
    elif kind == "move object":
        moved = f"{args[0]}/moved.yaml"
        documents.setdefault(moved, []).append(copy.deepcopy(docs[index]))
        touched.add(args[0])
    elif kind == "repeat line":
        lines = yaml.safe_dump_all(docs, sort_keys=False).splitlines(keepends=True)
        line = args[0] % len(lines)
        (fabric / file).write_text("".join(lines[:line + 1] + lines[line:]))
        documents[file] = None  # written as text
    return touched


def _reachable(doc: Any, path: Path_) -> bool:
    for key in path:
        if isinstance(doc, dict) and key in doc or isinstance(doc, list) and isinstance(key, int) and key < len(doc):
            doc = doc[key]
        else:
            return False
    return True


def assert_refused_cleanly(problems: list[str], fabric: Path) -> None:
    for line in problems:
        assert "\n" not in line and "Traceback" not in line and "internal error" not in line, line
        file, rest = line.removeprefix(f"{fabric}/").split(": ", 1)
        assert (fabric / file).exists() or (fabric / file).is_symlink(), line
        assert rest.count(": ") >= 2, f"not FILE: OBJECT: FIELD: message: {line!r}"


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(changes=st.lists(mutations(), min_size=1, max_size=2))
def test_a_mutated_fabric_is_refused_with_file_object_and_field_or_plans(changes: list[tuple]):
    with tempfile.TemporaryDirectory() as tmp:
        fabric = Path(tmp) / "config"
        shutil.copytree(EXAMPLE, fabric)
        documents = copy.deepcopy(DOCUMENTS)
        touched: set[str] = set()
        for change in changes:
            touched |= mutate(fabric, documents, change)
        for file, docs in documents.items():
            if docs is not None and docs != DOCUMENTS.get(file):
                (fabric / file).parent.mkdir(exist_ok=True)
                (fabric / file).write_text(yaml.safe_dump_all(docs, sort_keys=False))

        problems, _ = validate(fabric)
        if problems:
            assert_refused_cleanly(problems, fabric)
            return
        loaded = load_fabric(fabric)
        names = {c.name for c in loaded.spec.clusters}
        stacks = names if "*" in touched else touched & names
        stacks = dependencies(loaded).affected(stacks)
        if stacks:
            result = plan(PROJECT_DIR, fabric, sorted(stacks))["stacks"]
            failed = {s: entry["errors"] for s, entry in result.items() if entry.get("errors")}
            assert not failed, f"validate passed {changes}, the plan failed: {failed}"
