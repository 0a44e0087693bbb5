"""`validate` of a large fabric, against merely parsing its YAML.

    python -m bench.validate_cost [--clusters 100] [--objects 100] [--repeats 3]

A fabric of N clusters of about `objects` manifests each (Services, exports,
imports, policies; routes and a Gateway for Lattice), per dataplane. In child
processes, interleaved: `clusterfabric validate`'s own function (read, model,
checks across clusters), and the baseline that only parses every file with
PyYAML, with the loader `validate` uses (libyaml's when PyYAML has it) and with
PyYAML's pure-Python one. Modules are imported before the clock starts.

The figure printed last: validate's time as a multiple of parsing alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .generate import Shape, generate, object_count
from .measure import Table, interleave, medians, python_child, ratio, seconds
from .cli import main_of

NAME = "validate_cost"
MODES = ("validate", "parse", "parse-pure")


def shape_for(dataplane: str, clusters: int, objects: int) -> Shape:
    """About `objects` manifests per cluster: ~10% imports, the rest exported Services (2 manifests each)."""
    imports = max(1, objects // 12)
    if dataplane == "clusterlink":  # M Services + M Exports + K Imports + 2 AccessPolicies
        exports = (objects - imports - 2) // 2
    else:  # M Services + M ServiceExports + K (ServiceImport + HTTPRoute) + 1 Gateway
        imports = imports // 2 or 1
        exports = (objects - 2 * imports - 1) // 2
    return Shape(clusters, exports, imports, dataplane)


def child(mode: str, fabric: Path) -> None:
    """In a child process: validate the fabric, or only parse its files; prints seconds and problem count."""
    import yaml

    from clusterfabric.runner.cli import validate

    files = sorted(fabric.rglob("*.yaml"))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if mode == "parse" else yaml.SafeLoader
    started = time.perf_counter()
    problems: list[str] = []
    if mode == "validate":
        problems, _ = validate(fabric)
    else:
        for path in files:
            list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader))
    print(json.dumps({"seconds": time.perf_counter() - started, "problems": len(problems)}))


def _run(mode: str, fabric: Path) -> dict[str, Any]:
    run = python_child("bench.validate_cost", "child", mode, str(fabric))
    return {**run.report(), "wall": run.wall, "maxrss_kb": run.maxrss_kb}


def measure(clusters: int, objects: int, repeats: int, dataplanes: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"repeats": repeats, "fabrics": []}
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        for dataplane in dataplanes:
            shape = shape_for(dataplane, clusters, objects)
            fabric = generate(Path(tmp) / dataplane, shape)
            runs = interleave(repeats, {mode: (lambda m=mode: _run(m, fabric)) for mode in MODES})
            row = {"dataplane": dataplane, "clusters": clusters, "objects": object_count(shape),
                   "exports": shape.exports, "imports": shape.imports, **{m: medians(runs[m]) for m in MODES}}
            row["ratio"] = row["validate"]["seconds"] / row["parse"]["seconds"]
            row["ratio_pure"] = row["validate"]["seconds"] / row["parse-pure"]["seconds"]
            results["fabrics"].append(row)
    return results


def markdown(results: dict[str, Any]) -> str:
    table = Table(["dataplane", "clusters", "objects", "problems found", "validate", "parse (libyaml)",
                   "ratio", "parse (pure Python)", "ratio to pure Python", "validate peak memory"])
    for r in results["fabrics"]:
        table.add(r["dataplane"], r["clusters"], r["objects"], int(r["validate"]["problems"]),
                  seconds(r["validate"]["seconds"]), seconds(r["parse"]["seconds"]), f"**{ratio(r['ratio'])}**",
                  seconds(r["parse-pure"]["seconds"]), ratio(r["ratio_pure"]),
                  f"{r['validate']['maxrss_kb'] / 1024:.0f} MB")
    return "\n".join([f"Median of {results['repeats']} runs of each, interleaved; time measured inside the child, "
                      "modules already imported.", "", table.markdown(), ""])


def summary(results: dict[str, Any]) -> str:
    parts = [f"{r['dataplane']} {r['clusters']}x{r['objects'] // r['clusters']}: {seconds(r['validate']['seconds'])}, "
             f"{ratio(r['ratio'])} parsing" for r in results["fabrics"]]
    return "validate, time as a multiple of parsing the YAML alone: " + "; ".join(parts)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--objects", type=int, default=100, help="manifests per cluster, about")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dataplanes", default="clusterlink,lattice")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.clusters, args.objects, args.repeats, args.dataplanes.split(","))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        child(argv[1], Path(argv[2]))
        return
    main_of(NAME, __doc__, arguments, run, markdown, summary, argv)


if __name__ == "__main__":
    main()
