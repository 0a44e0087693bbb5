"""A stack's refusals: why its operation must not run, found before the engine changes anything.

Two kinds. Its inputs: the problems in its own cluster's folder, and for a ClusterLink importer, Imports of what
its peers do not publish (what its own program would refuse, found before the stack is touched). Safe deletion:
destroying a stack others read, and removing exports others import (the model's queries,
components/model/removal.py). Each is a function of the fabric model, its graph and the outputs read; the
runner decides when to ask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from clusterfabric.components.contract import (CLUSTERLINK_OUTPUT, IMPORT_TARGET_PORTS_OUTPUT, LATTICE_OUTPUT,
                                               lattice_exports)
from clusterfabric.components.model import FabricManifests, Graph
from clusterfabric.components.model.errors import Problem, they
from clusterfabric.components.model.peers import clusterlink_exports, read_peers
from clusterfabric.components.model.removal import importers, removed_exports, shares_nothing


def problems_by_stack(problems: list[Problem], folders: dict[str, Path]) -> dict[str, list[Problem]] | None:
    """Each stack's own input problems: those in its cluster's folder (`folders`: stack -> folder). None when a
    problem is in no cluster's folder (fabric.yaml): no single stack can refuse it."""
    found: dict[str, list[Problem]] = {}
    for problem in problems:
        path = Path(problem.file).resolve()
        stack = next((s for s, folder in folders.items() if path.is_relative_to(folder.resolve())), None)
        if stack is None:
            return None
        found.setdefault(stack, []).append(problem)
    return found


def input_refusal(fabric: FabricManifests, name: str, problems: list[Problem],
                  deployed: Callable[[str], dict[str, Any] | None], planned: frozenset[str]) -> str | None:
    """What stack `name`'s own program would refuse: its own input `problems`, and for a ClusterLink importer,
    Imports of what its peers do not publish. `deployed(peer)`: the peer's outputs (None: not deployed), read
    only for the peers not `planned` (previewed in this run: they will publish what their manifests say)."""
    if problems:
        return "invalid fabric input:\n" + "\n".join(map(str, problems))
    if fabric.spec.cluster(name).dataplane != "clusterlink":
        return None
    published = {p: (deployed(p) or {}).get(CLUSTERLINK_OUTPUT) for p in fabric.import_peers(name) if p not in planned}
    peers = read_peers(fabric, name, published, planned)
    return peers.refusal() if peers.problems else None


def destroy_refusal(graph: Graph, name: str, selected: frozenset[str]) -> str | None:
    """Refusing to destroy stack `name` while stacks not `selected` with it read it."""
    readers = sorted(s for s in graph.dependents({name}) - {name} if s not in selected)
    if not readers:
        return None
    return (f"refusing to destroy {name!r}: {they(readers, 'still reads', 'still read')} it (imports, certificates or "
            "service networks); destroy them too, change them first, or use --force")


def removed(fabric: FabricManifests, name: str, published: Mapping[str, Any]) -> list[Any]:
    """What stack `name` exported (its outputs, `published`, say what) that its manifests no longer declare."""
    if fabric.spec.cluster(name).dataplane == "clusterlink":
        exported = clusterlink_exports(published.get(CLUSTERLINK_OUTPUT))
    else:
        exported = lattice_exports(name, published.get(LATTICE_OUTPUT))
    return removed_exports(fabric, name, exported)


def removal_refusal(fabric: FabricManifests, name: str, published: dict[str, Any]) -> str | None:
    """Refusing to remove what stack `name` exports (its outputs, `published`, say what) while others import it:
    the exports its manifests no longer declare, each with its importers."""
    users_of = importers(fabric, name, removed(fabric, name, published))
    if not users_of:
        return None
    lines = [f"refusing to remove what {name!r} exports while others import it (use --force to do it anyway):"]
    lines += [f"  {export}: imported by {', '.join(users)}" for export, users in sorted(users_of.items())]
    return "\n".join(lines)


def emptied_refusal(fabric: FabricManifests, name: str, published: dict[str, Any]) -> str | None:
    """Refusing an `up` of stack `name` that would remove everything it shares (its outputs, `published`, name
    exports or imports, its manifests none): what a renamed or emptied folder looks like from here."""
    if fabric.spec.cluster(name).dataplane == "clusterlink":
        exports = [f"export {e.namespace}/{e.name}" for e in clusterlink_exports(published.get(CLUSTERLINK_OUTPUT))]
        imports = [f"import {key}" for key in sorted(published.get(IMPORT_TARGET_PORTS_OUTPUT) or {})]
    else:
        exports, imports = [f"export {e.key}" for e in lattice_exports(name, published.get(LATTICE_OUTPUT))], []
    shared = exports + imports
    if not shared or not shares_nothing(fabric, name):
        return None
    return (f"refusing to remove everything {name!r} shares ({', '.join(shared)}): its folder declares no export "
            "or import any more (a renamed or emptied folder?); use --force to do it anyway")


def deployed_import_refusal(name: str, removed_ids: list[str], imports: Mapping[str, Sequence[str]]) -> str | None:
    """Refusing to remove exports of stack `name` (`removed_ids`) while another stack has an import of one deployed
    (`imports`: stack -> the ids of `name`'s exports it imports, as deployed; as planned for a stack previewed
    earlier in the run): its manifests may have dropped it, but until its own `up` the Import still names it."""
    still = {stack: sorted(set(ids) & set(removed_ids)) for stack, ids in sorted(imports.items())}
    lines = [f"  {stack} still imports {', '.join(ids)} (deployed)" for stack, ids in still.items() if ids]
    if not lines:
        return None
    return "\n".join([f"refusing to remove what {name!r} exports while a deployed import still names it: up the "
                      "importer first, or both in one run (importers go first); --force to do it anyway:", *lines])
