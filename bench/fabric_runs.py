"""Whole-fabric runs: `up` and `preview` of N stacks, serial against `--parallel 2`, as a speedup.

    python -m bench.fabric_runs [--sizes 2,4,8,16] [--exports 5] [--repeats 1] [--dataplanes clusterlink,lattice]

Fabrics of N clusters with no imports, so the stacks are as independent as
the product allows: ClusterLink stacks all read the fabric CA's owner (the
first), so with two workers the best possible speedup is
N / (1 + ceil((N-1)/2)); Lattice stacks share nothing and run offline here (no
AWS plugin), each one an offline plan in a process of its own.

Each run goes through the fabric layer (`Fabric(...).up()` then `.preview()`,
what `clusterfabric up|preview --parallel P` calls) in a child process, on a
copy of the project with an empty backend; serial and parallel runs alternate.
Each run also reports the CPU time it used (this process and every process
it waited for: Pulumi CLIs, plugins, programs, policy packs) over its wall
time, the cores a run keeps busy: a serial run that already keeps more than
one core busy leaves a second worker less than a whole core to gain.

The figure printed last: the speedup of `--parallel 2` at the largest N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.graph import dependencies, run_order

from .generate import Shape, generate
from .measure import REPO, Table, interleave, medians, python_child, ratio, seconds
from .cli import main_of, sizes

NAME = "fabric_runs"
OPERATIONS = ("up", "preview")
TARGET = 1.6


def fresh_project(directory: Path, shape: Shape) -> Path:
    """A copy of the project (its own program, this fabric in config/) with no state at all."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO / name, directory / name)
    from tests.pulumi_project import point_at_venv

    point_at_venv(directory / "Pulumi.yaml")
    (directory / "stacks").mkdir()
    generate(directory / "config", shape)
    return directory


def best_speedup(fabric_dir: Path, workers: int, durations: dict[str, float] | None = None) -> float:
    """Serial time over the schedule of `workers` that the fabric layer runs (each stack started, in run order,
    once what it reads is done and a worker is free), every stack taking the same time, or its `durations`
    (measured in the serial run: the CA's owner issues every peer's certificate, so it takes longer)."""
    fabric = load_fabric(fabric_dir)
    graph, order = dependencies(fabric), run_order(fabric)
    cost = durations or {s: 1.0 for s in order}
    finish: dict[str, float] = {}
    running: dict[str, float] = {}
    now = 0.0
    while len(finish) < len(order):
        for s in order:
            if s not in finish and s not in running and len(running) < workers and \
                    all(d in finish for d in graph.needs(s) & set(order)):
                running[s] = now + cost[s]
        stack = min(running, key=running.get)
        now = finish[stack] = running.pop(stack)
    return sum(cost.values()) / now


def one_run(work: Path, shape: Shape, parallel: int) -> dict[str, Any]:
    project = fresh_project(work / f"{shape.dataplane}-{shape.clusters}-p{parallel}", shape)
    load = os.getloadavg()[0]  # two workers only help when the two cores are not busy with something else
    report = python_child("bench.fabric_runs", "child", str(project), str(parallel)).report()
    return {**report, "load": load}


def measure_size(work: Path, shape: Shape, repeats: int) -> dict[str, Any]:
    runs = interleave(repeats, {"serial": lambda: one_run(work, shape, 1), "parallel": lambda: one_run(work, shape, 2)})
    result: dict[str, Any] = {"clusters": shape.clusters, "ok": all(r["ok"] for side in runs.values() for r in side),
                              "results": sorted({x for side in runs.values() for r in side for x in r["results"]})}
    for side, side_runs in runs.items():
        result[side] = medians(side_runs)
    for op in OPERATIONS:
        result[f"speedup_{op}"] = result["serial"][op] / result["parallel"][op]
    fabric_dir = work / f"{shape.dataplane}-{shape.clusters}-p1" / "config"
    result["best_speedup"] = best_speedup(fabric_dir, 2)
    for op in OPERATIONS:  # the bound again, with each stack's time in the (first) serial run
        result[f"best_speedup_{op}"] = best_speedup(fabric_dir, 2, runs["serial"][0][f"{op}_durations"])
    return result


def measure(fabric_sizes: list[int], exports: int, repeats: int, dataplanes: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fabric-") as tmp:
        return {"exports": exports, "repeats": repeats, "fabrics": {
            d: [measure_size(Path(tmp), Shape(n, exports, 0, d), repeats) for n in fabric_sizes] for d in dataplanes}}


def child(project: Path, parallel: int) -> None:
    """In a child process: `up` then `preview` of the whole fabric through the fabric layer, timed."""
    from clusterfabric import Fabric

    fabric = Fabric("config", project_dir=project, parallel=parallel)
    report: dict[str, Any] = {"ok": True, "results": []}
    for op in OPERATIONS:
        started, cpu = time.perf_counter(), _cpu_seconds()
        result = getattr(fabric, op)()
        report[op] = time.perf_counter() - started
        report[f"{op}_cores"] = (_cpu_seconds() - cpu) / report[op]
        report[f"{op}_durations"] = {s.stack: s.duration for s in result.stacks}
        report["ok"] = report["ok"] and result.ok
        report["results"] += sorted({f"{op}: {s.result}" for s in result.stacks})
        if not result.ok:
            print("\n".join(f"{s.stack}: {s.result}: {s.message}" for s in result.stacks), file=sys.stderr)
    print(json.dumps(report))


def _cpu_seconds() -> float:
    """CPU time of this process and of the processes it has waited for (they include their own children)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Each cluster exports {results['exports']} services, imports none; median of {results['repeats']} "
             "run(s) each way, serial and parallel alternating; every run from an empty backend: `up` creates "
             "everything, then `preview` finds nothing to change. *best possible*: with two workers and stacks of "
             "equal cost, given the dependency graph; *with measured times*: the same with each stack's time in the serial run. *load average*: the machine's 1-minute load when the run "
             "started (2 cores: above about 1, the second worker competes for a core). *cores busy*: CPU seconds over wall "
             "seconds of the serial / parallel `up` and `preview` (processes the run waited for included).", ""]
    for dataplane, rows in results["fabrics"].items():
        table = Table(["N stacks", "what ran", "`up` serial", "`up` --parallel 2", "speedup", "`preview` serial",
                       "`preview` --parallel 2", "speedup", "best possible (equal stacks)",
                       "best possible with measured times (`up` / `preview`)", "load average before (serial / parallel)",
                       "cores busy, `up` (serial / parallel)", "cores busy, `preview`"])
        for r in rows:
            table.add(r["clusters"], ", ".join(r["results"]), seconds(r["serial"]["up"]), seconds(r["parallel"]["up"]),
                      f"**{ratio(r['speedup_up'])}**", seconds(r["serial"]["preview"]),
                      seconds(r["parallel"]["preview"]), f"**{ratio(r['speedup_preview'])}**",
                      ratio(r["best_speedup"]),
                      " / ".join(ratio(r[f"best_speedup_{op}"]) if f"best_speedup_{op}" in r else "-" for op in OPERATIONS),
                      f"{r['serial'].get('load', float('nan')):.1f} / {r['parallel'].get('load', float('nan')):.1f}",
                      *(f"{r['serial'].get(f'{op}_cores', float('nan')):.2f} / "
                        f"{r['parallel'].get(f'{op}_cores', float('nan')):.2f}" for op in OPERATIONS))
        lines += [f"**{dataplane}**", "", table.markdown(), ""]
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    parts = [f"{d} N={rows[-1]['clusters']}: up {ratio(rows[-1]['speedup_up'])}, preview "
             f"{ratio(rows[-1]['speedup_preview'])} (best possible {ratio(rows[-1]['best_speedup'])})"
             for d, rows in results["fabrics"].items() if rows]
    return f"fabric runs, --parallel 2 speedup over serial (target >= {TARGET}x): " + "; ".join(parts)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=[2, 4, 8, 16], help="fabric sizes N, comma-separated")
    parser.add_argument("--exports", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--dataplanes", default="clusterlink,lattice")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.sizes, args.exports, args.repeats, args.dataplanes.split(","))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        child(Path(argv[1]), int(argv[2]))
        return
    main_of(NAME, __doc__, arguments, run, markdown, summary, argv)


if __name__ == "__main__":
    main()
