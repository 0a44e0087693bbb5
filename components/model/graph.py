"""Which stack needs which: the fabric's dependency graph and the order to run its stacks in.

An edge `a -> b` means stack `a` reads stack `b`'s outputs. Hard edges carry
what only exists once `b` is deployed (certificates, target group ARNs, service
network ids, and, read from no output, the acceptance of a network's share that
`b` made for the account of both); soft edges carry what `b`'s manifests already say (a ClusterLink
peer's gateways, exports and policies), so a cycle of soft edges (two clusters
importing from each other) is broken by checking against the manifests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .lattice_fabric import network_plan
from .lattice_imports import ExportIndex, import_sources
from .fabric import FabricManifests
from .errors import InputError, Problem


@dataclass(frozen=True)
class Graph:
    hard: dict[str, set[str]]
    soft: dict[str, set[str]]
    shaped: dict[str, set[str]] = field(default_factory=dict)
    """Stack -> the stacks whose manifests shape what it declares, without it reading them: a Lattice exporter
    makes one target group per service forwarding to it, so the routes of its importers shape it; a network's
    owner shares it with the accounts of the clusters joining it."""

    def needs(self, stack: str) -> set[str]:
        return self.hard[stack] | self.soft[stack]

    def dependents(self, stacks: set[str]) -> set[str]:
        """`stacks` and every stack that reads them, directly or not."""
        return _readers({s: self.needs(s) for s in self.hard}, stacks)

    def affected(self, changed: set[str]) -> set[str]:
        """The stacks a change to the inputs of `changed` reaches: those and the stacks they shape (what they
        publish may change), every stack reading one of these over a hard edge, directly or not (what it
        publishes may change with what it reads), and every stack reading one of all these over a soft edge. A
        soft edge goes no further: what a ClusterLink peer publishes is its own manifests', whatever it reads,
        so the readers of a reader are not reached (following them reached every stack of a ring of imports)."""
        published = _readers(self.hard, changed | {s for s, by in self.shaped.items() if by & changed})
        return published | {s for s, read in self.soft.items() if read & published}


def _readers(edges: dict[str, set[str]], stacks: set[str]) -> set[str]:
    """`stacks` and every stack that reads them over `edges`, directly or not."""
    found = set(stacks)
    while True:
        more = {s for s, read in edges.items() if read & found} - found
        if not more:
            return found
        found |= more


def dependencies(fabric: FabricManifests) -> Graph:
    names = [c.name for c in fabric.spec.clusters]
    hard: dict[str, set[str]] = {n: set() for n in names}
    soft: dict[str, set[str]] = {n: set() for n in names}
    shaped: dict[str, set[str]] = {n: set() for n in names}
    owner = fabric.ca_owner()
    exports = ExportIndex(fabric.lattice_exports())
    networks = network_plan(fabric.spec, fabric.manifests, exports, fabric.fabric_file)
    for cluster in fabric.spec.clusters:
        name, manifests = cluster.name, fabric.manifests[cluster.name]
        if cluster.dataplane == "clusterlink":
            if owner != name:
                hard[name].add(owner)  # the fabric CA issues this peer's certificate
            soft[name] |= set(fabric.import_peers(name))
        else:
            # The networks it joins, and the acceptance of their shares for its account (service networks).
            hard[name] |= networks.needed_by(name)
            shaped[name] |= networks.shaping(name)
            sources = import_sources(manifests, exports, cluster)
            hard[name] |= set(sources)
            for source in sources:
                shaped[source].add(name)
        soft[name] -= hard[name]
    return Graph(hard, soft, shaped)


def waves(names: list[str], edges: dict[str, set[str]]) -> list[list[str]] | None:
    """`names` in waves: each wave holds the names whose edges all go to earlier waves, `names`' order within a
    wave; None when the edges make a cycle."""
    found: list[list[str]] = []
    done: set[str] = set()
    pending = list(names)
    while pending:
        ready = [n for n in pending if edges[n] <= done]
        if not ready:
            return None
        found.append(ready)
        done |= set(ready)
        pending = [n for n in pending if n not in done]
    return found


def topological(names: list[str], edges: dict[str, set[str]]) -> list[str] | None:
    """`names` ordered so that each comes after the names it has edges to, `names`' order among equals (wave by
    wave); None when the edges make a cycle."""
    found = waves(names, edges)
    return None if found is None else [n for wave in found for n in wave]


def run_waves(fabric: FabricManifests, fabric_file: str = "fabric.yaml",
              graph: Graph | None = None) -> tuple[list[list[str]], dict[str, set[str]]]:
    """The stacks in waves, each after the stacks it reads (fabric.yaml order within a wave), and the edges kept
    to order them: every stack's needs, or only the hard ones when soft edges make a cycle (two ClusterLink
    clusters importing from each other are checked against each other's manifests instead).

    `graph`: the fabric's `dependencies`, when the caller has them already.
    """
    graph = graph or dependencies(fabric)
    names = [c.name for c in fabric.spec.clusters]
    for edges in ({n: graph.needs(n) for n in names}, graph.hard):
        found = waves(names, edges)
        if found is not None:
            return found, edges
    stuck = sorted(n for n in names if graph.hard[n])
    raise InputError([Problem(fabric_file, "Fabric", "clusters", "the clusters need each other's deployed "
                              f"resources in a cycle ({', '.join(stuck)}); break it by moving a service network "
                              "owner or an export")])


def run_order(fabric: FabricManifests, fabric_file: str = "fabric.yaml", graph: Graph | None = None) -> list[str]:
    """Stacks in an order where each comes after the stacks it reads (fabric.yaml order among equals).

    `graph`: the fabric's `dependencies`, when the caller has them already.
    """
    found, _ = run_waves(fabric, fabric_file, graph)
    return [n for wave in found for n in wave]
