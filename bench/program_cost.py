"""Program cost: one cluster program with the components, against the same provider resources declared flat.

    python -m bench.program_cost [--sizes 10,100,1000] [--engine-sizes 10,100,500] [--repeats 3]

For each size M (exports of a one-cluster fabric, no imports, so no
StackReference is involved), per dataplane:

- offline: the program under Pulumi's mocks (as `plan --offline` runs it) and
  the flat baseline replayed from a recording of it (bench/replay.py), each in a
  child process, interleaved; time from the first declaration to the last
  registration answered (SDKs imported before), and the child's peak memory.
  The recorded resources are checked to be the same on both sides first.
- engine (ClusterLink: Lattice needs the AWS plugin): `pulumi up` of a fresh
  stack rendering its manifests, for the program and for the flat baseline,
  each on an empty backend; wall time of the `up`, peak memory of the Python
  program, and the rendered manifests compared (Secrets aside: new keys).

The figure printed last: the components' time as a multiple of the baseline's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .generate import Shape, generate
from .cli import main_of, sizes
from .measure import Table, interleave, linear_fit, medians, python_child, ratio, seconds
from .projects import on_fresh_backend, program_project, timed_up

NAME = "program_cost"
STACK = "c000"
# Issue 21's targets, with a component per shared object: the program within 1.25x the flat baseline under mocks,
# and within 1.10x on the engine from M = 100 (a small stack's fixed costs, the SDK's import, are not judged).
TARGETS = {"offline": 1.25, "engine": 1.10}
JUDGED_FROM = {"offline": 1, "engine": 100}


# --- offline -------------------------------------------------------------------


def _evaluate(mode: str, fabric: Path, spec: Path, *extra: str) -> dict[str, Any]:
    run = python_child("bench.evaluate", mode, "--stack", STACK, "--fabric", str(fabric), "--spec", str(spec), *extra)
    return {**run.report(), "wall": run.wall, "process_maxrss_kb": run.maxrss_kb}


def _declared(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())


def offline_size(work: Path, dataplane: str, exports: int, repeats: int) -> dict[str, Any]:
    """One size of the offline comparison: recorded, checked, then measured `repeats` times each way."""
    fabric = generate(work / f"{dataplane}-{exports}", Shape(1, exports, 0, dataplane))
    spec, seen, replayed = work / "replay.json", work / "components.json", work / "baseline.json"
    recording = _evaluate("record", fabric, spec, "--declared", str(seen))
    _evaluate("baseline", fabric, spec, "--declared", str(replayed))
    same = _declared(seen) == _declared(replayed)
    runs = interleave(repeats, {"components": lambda: _evaluate("components", fabric, spec),
                                "baseline": lambda: _evaluate("baseline", fabric, spec)})
    comp, base = medians(runs["components"]), medians(runs["baseline"])
    resources = len(_declared(seen))
    return {"exports": exports, "resources": resources, "components": recording["registrations"] - resources,
            "same_resources": same, "components_run": comp, "baseline_run": base,
            "ratio_seconds": comp["seconds"] / base["seconds"], "ratio_wall": comp["wall"] / base["wall"],
            "ratio_maxrss": comp["process_maxrss_kb"] / base["process_maxrss_kb"]}


# --- engine --------------------------------------------------------------------


def _rendered(directory: Path) -> dict[str, Any]:
    """Rendered objects by file name, Secrets without their data (keys differ on every fresh up)."""
    found = {}
    for path in sorted((directory / "rendered" / STACK).rglob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc.get("kind") == "Secret":
            doc.pop("data", None)
        found[path.name] = doc
    return found


SKIP_CHECKPOINTS = {"PULUMI_SKIP_CHECKPOINTS": "true"}
"""The diagnostic variant: the file backend then saves the state once at the end instead of after every step."""


def _engine_up(directory: Path, backend: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    proj = on_fresh_backend(directory, backend, [STACK])
    stats = directory / "program-stats.json"
    proj.env["BENCH_PROGRAM_STATS"] = str(stats)
    proj.env.update(env or {})
    run = timed_up(proj, STACK)
    return {"up_seconds": run.wall, "tree_maxrss_kb": run.maxrss_kb, **json.loads(stats.read_text())}


def engine_size(work: Path, exports: int, repeats: int) -> dict[str, Any]:
    """One size with the engine: the main comparison, then the same without the file backend's per-step
    checkpoints (PULUMI_SKIP_CHECKPOINTS, a diagnostic: it tells the state's cost from the program's)."""
    shape = Shape(1, exports, 0, "clusterlink")
    comp = program_project(work / f"components-{exports}", "components", shape)
    base = program_project(work / f"baseline-{exports}", "baseline")
    _evaluate("record", comp / "config", base / "replay.json", "--render-directory", str(base / "rendered" / STACK))
    runs = interleave(repeats, {"components": lambda: _engine_up(comp, work / "backend-components"),
                                "baseline": lambda: _engine_up(base, work / "backend-baseline")})
    c, b = medians(runs["components"]), medians(runs["baseline"])
    same = _rendered(comp) == _rendered(base)
    skipped = interleave(repeats, {
        "components": lambda: _engine_up(comp, work / "backend-components", SKIP_CHECKPOINTS),
        "baseline": lambda: _engine_up(base, work / "backend-baseline", SKIP_CHECKPOINTS)})
    sc, sb = medians(skipped["components"]), medians(skipped["baseline"])
    resources = len(json.loads((base / "replay.json").read_text())["resources"])
    return {"exports": exports, "resources": resources, "same_rendered": same,
            "components_run": c, "baseline_run": b, "ratio_seconds": c["up_seconds"] / b["up_seconds"],
            "ratio_program_maxrss": c["program_maxrss_kb"] / b["program_maxrss_kb"],
            "no_checkpoints": {"components": sc["up_seconds"], "baseline": sb["up_seconds"],
                               "ratio_seconds": sc["up_seconds"] / sb["up_seconds"]}}


# --- the benchmark ---------------------------------------------------------------


def measure(sizes: list[int], engine_sizes: list[int], repeats: int, engine_repeats: int,
            dataplanes: list[str], large: int = 200) -> dict[str, Any]:
    """`large`: engine sizes above it run once each way (an `up` of M=500 takes minutes)."""
    with tempfile.TemporaryDirectory(prefix="bench-program-") as tmp:
        work = Path(tmp)
        offline = {d: [offline_size(work, d, m, repeats) for m in sizes] for d in dataplanes}
        engine = ([engine_size(work, m, engine_repeats if m <= large else 1) for m in engine_sizes]
                  if "clusterlink" in dataplanes else [])
    return {"repeats": repeats, "engine_repeats": engine_repeats, "offline": offline, "engine": {"clusterlink": engine}}


LINEAR = 1.5
"""Growth counts as linear while the cost of one more resource stays within this factor of its first value."""


def marginal(rows: list[dict[str, Any]], side: str, key: str) -> list[float]:
    """Seconds per provider resource added, between each pair of successive sizes."""
    return [(b[side][key] - a[side][key]) / (b["resources"] - a["resources"]) for a, b in zip(rows, rows[1:])]


def growth(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Per-resource slope of both sides (least squares), the marginal costs, and whether growth is linear."""
    xs = [r["resources"] for r in rows]
    found: dict[str, Any] = {}
    for side in ("components_run", "baseline_run"):
        fit = linear_fit(xs, [r[side][key] for r in rows])
        steps = marginal(rows, side, key)
        found[side] = {"slope": fit.slope, "r2": fit.r2, "marginal": steps,
                       "linear": bool(steps) and steps[-1] <= LINEAR * max(steps[0], 1e-9)}
    return found


def _growth_text(rows: list[dict[str, Any]], key: str, label: str) -> str:
    found = growth(rows, key)
    sizes = " / ".join(f"{a['exports']}->{b['exports']}" for a, b in zip(rows, rows[1:]))
    parts = []
    for side, name in (("components_run", "components"), ("baseline_run", "baseline")):
        g = found[side]
        steps = " / ".join(f"{m * 1000:.2f}" for m in g["marginal"])
        verdict = "linear" if g["linear"] else f"**superlinear** (x{g['marginal'][-1] / g['marginal'][0]:.1f})"
        parts.append(f"{name} {g['slope'] * 1000:.2f} ms per provider resource (fit, r² {g['r2']:.3f}); marginal "
                     f"{steps} ms for M {sizes}: {verdict}")
    slope_ratio = found["components_run"]["slope"] / found["baseline_run"]["slope"]
    return f"{label}: " + "; ".join(parts) + f"; slope ratio {ratio(slope_ratio)}"


def markdown(results: dict[str, Any]) -> str:
    lines = [f"Median of {results['repeats']} runs each way offline, {results['engine_repeats']} with the engine "
             "(1 above M=200), "
             "components and baseline interleaved. *resources*: provider resources declared (the same on both sides, "
             "checked); *components*: the ComponentResources the program adds.", ""]
    for dataplane, rows in results["offline"].items():
        table = Table(["M exports", "resources", "components", "same resources", "components time", "baseline time",
                       "time ratio", "process wall ratio", "peak memory (components / baseline)", "memory ratio"])
        for r in rows:
            c, b = r["components_run"], r["baseline_run"]
            table.add(r["exports"], r["resources"], r["components"], "yes" if r["same_resources"] else "**no**",
                      seconds(c["seconds"]), seconds(b["seconds"]), f"**{ratio(r['ratio_seconds'])}**",
                      ratio(r["ratio_wall"]), f"{c['process_maxrss_kb'] / 1024:.0f} / {b['process_maxrss_kb'] / 1024:.0f} MB",
                      ratio(r["ratio_maxrss"]))
        lines += [f"**Offline (mocks), {dataplane}**", "", table.markdown(), ""]
        if len(rows) > 1:
            lines += ["- " + _growth_text(rows, "seconds", "time"), ""]
    for dataplane, rows in results["engine"].items():
        if not rows:
            continue
        table = Table(["M exports", "resources", "same manifests", "components `up`", "baseline `up`", "time ratio",
                       "program peak memory (components / baseline)", "memory ratio",
                       "without per-step checkpoints: components / baseline", "ratio"])
        for r in rows:
            c, b = r["components_run"], r["baseline_run"]
            table.add(r["exports"], r["resources"], "yes" if r["same_rendered"] else "**no**", seconds(c["up_seconds"]),
                      seconds(b["up_seconds"]), f"**{ratio(r['ratio_seconds'])}**",
                      f"{c['program_maxrss_kb'] / 1024:.0f} / {b['program_maxrss_kb'] / 1024:.0f} MB",
                      ratio(r["ratio_program_maxrss"]),
                      f"{seconds(r['no_checkpoints']['components'])} / {seconds(r['no_checkpoints']['baseline'])}",
                      ratio(r["no_checkpoints"]["ratio_seconds"]))
        lines += [f"**Engine (`pulumi up`, rendered manifests), {dataplane}**", "", table.markdown(), ""]
        if len(rows) > 1:
            lines += ["- " + _growth_text(rows, "up_seconds", "`up` time"), ""]
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    parts = [f"offline {d} M={rows[-1]['exports']}: {ratio(rows[-1]['ratio_seconds'])}"
             for d, rows in results["offline"].items() if rows]
    parts += [f"engine {d} M={rows[-1]['exports']}: {ratio(rows[-1]['ratio_seconds'])}"
              for d, rows in results["engine"].items() if rows]
    return (f"program cost, components/baseline time (targets <= {TARGETS['offline']}x offline, "
            f"<= {TARGETS['engine']}x engine from M={JUDGED_FROM['engine']}): " + "; ".join(parts))


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=[10, 100, 1000], help="offline M (exports), comma-separated")
    parser.add_argument("--engine-sizes", type=sizes, default=[10, 100, 500], help="engine M ('' to skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine-repeats", type=int, default=3)
    parser.add_argument("--dataplanes", default="clusterlink,lattice")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.sizes, args.engine_sizes, args.repeats, args.engine_repeats, args.dataplanes.split(","))


def main(argv: list[str] | None = None) -> None:
    main_of(NAME, __doc__, arguments, run, markdown, summary, argv)


if __name__ == "__main__":
    main()
