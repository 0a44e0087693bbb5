"""The fabric as a picture: clusters, and what each imports from which, as Mermaid or Graphviz DOT."""

from __future__ import annotations

from dataclasses import dataclass

from clusterfabric.components.model import FabricManifests
from clusterfabric.components.model.clusterlink import Import
from clusterfabric.components.model.graph import dependencies
from clusterfabric.components.model.lattice_imports import resolve_imports, scope_of


@dataclass(frozen=True)
class Link:
    importer: str
    exporter: str
    label: str
    kind: str  # "import" (a shared service) or "needs" (certificates, a service network)


def links(fabric: FabricManifests) -> list[Link]:
    """Every import between clusters (by service), and the other things a stack reads from another."""
    found: dict[tuple[str, str], set[str]] = {}
    for spec, manifests in fabric.clusterlink_clusters():
        for imp in manifests.of_kind(Import):
            for source in imp.spec.sources:
                found.setdefault((spec.name, source.peer), set()).add(f"{source.exportNamespace}/{source.exportName}")
    exports = fabric.lattice_exports()
    for spec in fabric.spec.clusters:
        if spec.dataplane == "lattice":
            resolved, _ = resolve_imports(fabric.manifests[spec.name], exports, scope_of(spec))
            for matches in resolved.values():
                for e in matches:
                    if e.cluster != spec.name:
                        found.setdefault((spec.name, e.cluster), set()).add(f"{e.namespace}/{e.name}")
    result = [Link(i, e, ", ".join(sorted(labels)), "import") for (i, e), labels in sorted(found.items())]
    graph = dependencies(fabric)
    for stack in sorted(graph.hard):
        for needed in sorted(graph.hard[stack]):
            if (stack, needed) not in found:
                result.append(Link(stack, needed, "certificates" if fabric.spec.cluster(stack).dataplane ==
                                   "clusterlink" else "service network", "needs"))
    return result


def _node(name: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in name)


def mermaid(fabric: FabricManifests, changed: set[str] = frozenset()) -> str:
    """A Mermaid flowchart: an arrow from each importer to the cluster it imports from; changed clusters marked."""
    lines = ["flowchart LR"]
    for dataplane, title in (("clusterlink", "ClusterLink"), ("lattice", "VPC Lattice")):
        members = [c for c in fabric.spec.clusters if c.dataplane == dataplane]
        if members:
            lines.append(f"  subgraph {dataplane}[{title}]")
            lines += [f'    {_node(c.name)}["{c.name}{" (changed)" if c.name in changed else ""}"]' for c in members]
            lines.append("  end")
    for link in links(fabric):
        arrow = "-->" if link.kind == "import" else "-.->"
        lines.append(f'  {_node(link.importer)} {arrow}|"{link.label}"| {_node(link.exporter)}')
    if changed:
        lines.append("  classDef changed fill:#ffe8a3,stroke:#c77c00,stroke-width:2px")
        lines.append(f"  class {','.join(_node(c) for c in sorted(changed))} changed")
    return "\n".join(lines)


def dot(fabric: FabricManifests, changed: set[str] = frozenset()) -> str:
    """The same graph in Graphviz DOT."""
    lines = ["digraph fabric {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for dataplane, title in (("clusterlink", "ClusterLink"), ("lattice", "VPC Lattice")):
        members = [c for c in fabric.spec.clusters if c.dataplane == dataplane]
        if members:
            lines.append(f'  subgraph cluster_{dataplane} {{ label="{title}";')
            for c in members:
                style = ', style="rounded,filled", fillcolor="#ffe8a3"' if c.name in changed else ""
                lines.append(f'    "{c.name}" [label="{c.name}"{style}];')
            lines.append("  }")
    for link in links(fabric):
        style = "" if link.kind == "import" else ", style=dashed"
        lines.append(f'  "{link.importer}" -> "{link.exporter}" [label="{link.label}"{style}];')
    lines.append("}")
    return "\n".join(lines)
