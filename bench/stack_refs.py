"""Cross-stack cost: StackReference reads per importing stack, and how long a read takes.

    python -m bench.stack_refs [--sizes 2,4,8,16] [--exports 4] [--imports 3]

A fabric of N clusters where each imports K services drawn from other
clusters. Target: one read per source stack a cluster needs (the stacks it
imports from, plus the fabric CA's owner for ClusterLink or the service
network's owner for Lattice), never one per fabric member, whatever N.

- ClusterLink, real engine: every stack brought up in run order on an empty
  backend; the program (the repository's, unchanged) runs with StackReference
  construction timed until its outputs come back from the engine.
- Lattice, offline (no AWS plugin here): each stack under mocks, its
  StackReferences answered with the other stacks' offline outputs; counts only.

The figure printed last: reads per needed source stack (1.00 is the target).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.graph import run_order

from .generate import Shape, cluster_name, generate, source_stacks
from .measure import REPO, Table, median, python_child, seconds
from .cli import main_of, sizes
from .projects import on_fresh_backend, program_project, timed_up

NAME = "stack_refs"


def needed(shape: Shape, index: int) -> set[str]:
    """The stacks cluster `index` must read, by construction of the generated fabric."""
    found = source_stacks(shape, index)
    if shape.dataplane == "clusterlink" and index > 0:
        found.add(cluster_name(0))  # the fabric CA's owner issues this peer's certificate
    if shape.dataplane == "lattice" and index >= 2 and shape.imports:
        found.add(cluster_name(1))  # owner of the service network: the first cluster declaring its Gateway
    return found


def _row(shape: Shape, stack: str, read: list[str], times: list[float]) -> dict[str, Any]:
    want = needed(shape, int(stack[1:]))
    return {"stack": stack, "reads": len(read), "distinct": len(set(read)), "needed": len(want),
            "as_needed": set(read) == want, "seconds": times}


def engine_fabric(work: Path, shape: Shape) -> list[dict[str, Any]]:
    directory = program_project(work / f"clusterlink-{shape.clusters}", "components", shape)
    order = run_order(load_fabric(directory / "config"))
    proj = on_fresh_backend(directory, work / f"backend-{shape.clusters}", order)
    rows = []
    for stack in order:
        stats = directory / f"stats-{stack}.json"
        proj.env["BENCH_PROGRAM_STATS"] = str(stats)
        timed_up(proj, stack)
        reads = json.loads(stats.read_text())["reads"]
        rows.append(_row(shape, stack, [r["stack"] for r in reads], [r["seconds"] for r in reads if r["seconds"]]))
    return rows


def offline_fabric(work: Path, shape: Shape) -> list[dict[str, Any]]:
    from clusterfabric.offline.plan import plan

    fabric = generate(work / f"lattice-{shape.clusters}", shape)
    published = {s: entry["outputs"] for s, entry in plan(REPO, fabric)["stacks"].items()}
    answers = work / "published.json"
    answers.write_text(json.dumps(published))
    rows = []
    for stack in published:
        report = python_child("bench.evaluate", "components", "--stack", stack, "--fabric", str(fabric),
                              "--published", str(answers)).report()
        rows.append(_row(shape, stack, report["stack_references"], []))
    return rows


def measure(fabric_sizes: list[int], exports: int, imports: int, dataplanes: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"exports": exports, "imports": imports, "fabrics": {}}
    with tempfile.TemporaryDirectory(prefix="bench-refs-") as tmp:
        for dataplane in dataplanes:
            measure_one = engine_fabric if dataplane == "clusterlink" else offline_fabric
            results["fabrics"][dataplane] = [
                {"clusters": n, "stacks": measure_one(Path(tmp), Shape(n, exports, min(imports, (n - 1) * exports),
                                                                       dataplane))}
                for n in fabric_sizes]
    return results


def _per_source(results: dict[str, Any]) -> float:
    """The worst ratio of reads to needed source stacks over every importing stack."""
    ratios = [s["reads"] / s["needed"] for fabrics in results["fabrics"].values() for f in fabrics
              for s in f["stacks"] if s["needed"]]
    return max(ratios, default=float("nan"))


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Each cluster exports {results['exports']} services and imports {results['imports']} (fewer when "
             "the fabric has fewer to offer). *needed*: the stacks a cluster must read (its sources, plus the CA's or "
             "the service network's owner).", ""]
    for dataplane, fabrics in results["fabrics"].items():
        how = "real engine, `pulumi up` of each stack" if dataplane == "clusterlink" else "offline, counts only"
        table = Table(["N clusters", "reads per stack (max)", "needed sources per stack (max)",
                       "reads = needed sources, every stack", "reads / fabric members (max)"]
                      + (["read time, median (max)"] if dataplane == "clusterlink" else []))
        for f in fabrics:
            stacks = f["stacks"]
            times = [t for s in stacks for t in s["seconds"]]
            row = [f["clusters"], max(s["reads"] for s in stacks), max(s["needed"] for s in stacks),
                   "yes" if all(s["as_needed"] and s["reads"] == s["distinct"] for s in stacks) else "**no**",
                   f"{max(s['reads'] for s in stacks)} / {f['clusters'] - 1}"]
            if dataplane == "clusterlink":
                row.append(f"{seconds(median(times))} ({seconds(max(times))})" if times else "-")
            table.add(*row)
        lines += [f"**{dataplane}** ({how})", "", table.markdown(), ""]
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    largest = max(f["clusters"] for fabrics in results["fabrics"].values() for f in fabrics)
    return (f"stack references: at most {_per_source(results):.2f} reads per needed source stack "
            f"(target 1.00), independent of fabric size up to N={largest}")


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=[2, 4, 8, 16], help="fabric sizes N, comma-separated")
    parser.add_argument("--exports", type=int, default=4)
    parser.add_argument("--imports", type=int, default=3)
    parser.add_argument("--dataplanes", default="clusterlink,lattice")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.sizes, args.exports, args.imports, args.dataplanes.split(","))


def main(argv: list[str] | None = None) -> None:
    main_of(NAME, __doc__, arguments, run, markdown, summary, argv)


if __name__ == "__main__":
    main()
