"""bench/RESULTS.md and bench/scaling.png, from the figures the benchmarks kept in bench/results/.

The targets are judged here, from the numbers, so the verdicts cannot drift
from the tables; bench/FINDINGS.md (written by hand: what the numbers showed,
what was fixed, before and after) is included as it is.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any, Callable

from . import clusterlink_traffic, fabric_runs, fabric_scale, program_cost, stack_refs, validate_cost
from .cli import RESULTS
from .measure import REPO, ratio
from .plot import Panel, Series, write

BENCH = REPO / "bench"
SECTIONS: list[tuple[str, str, Any]] = [
    ("program_cost", "Program cost: components against the same resources declared flat", program_cost),
    ("stack_refs", "Cross-stack cost: StackReference reads", stack_refs),
    ("fabric_runs", "Whole-fabric runs: serial against `--parallel 2`", fabric_runs),
    ("validate_cost", "`validate` of a large fabric against parsing its YAML", validate_cost),
    ("clusterlink_traffic", "Traffic through the fabric: iperf3 through ClusterLink against directly", clusterlink_traffic),
    ("fabric_scale", "One cluster's cost against the fabric's size: 10, 100 and 1000 clusters (issue 27)",
     fabric_scale),
]


def load() -> dict[str, dict[str, Any]]:
    return {name: json.loads((RESULTS / f"{name}.json").read_text())
            for name, _, _ in SECTIONS if (RESULTS / f"{name}.json").exists()}


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issues 7 and 21 that was measured."""
    rows: list[tuple[str, str, str]] = []
    program = results.get("program_cost")
    if program:
        for mode, by_dataplane in (("offline", program["offline"]), ("engine", program["engine"])):
            for dataplane, sizes in by_dataplane.items():
                judged = [r for r in sizes if r["exports"] >= program_cost.JUDGED_FROM[mode]]
                if judged:
                    target, since = program_cost.TARGETS[mode], program_cost.JUDGED_FROM[mode]
                    worst = max(judged, key=lambda r: r["ratio_seconds"])
                    rows.append((f"program cost <= {target}x the flat baseline ({mode}, {dataplane}"
                                 + (f", M >= {since}" if since > 1 else "") + ")",
                                 ", ".join(f"M={r['exports']}: {ratio(r['ratio_seconds'])}" for r in sizes),
                                 _verdict(worst["ratio_seconds"] <= target)))
    refs = results.get("stack_refs")
    if refs:
        worst = stack_refs._per_source(refs)
        rows.append(("one StackReference read per source stack, never one per fabric member",
                     f"at most {worst:.2f} reads per needed source stack", _verdict(worst <= 1.0)))
    runs = results.get("fabric_runs")
    if runs:
        for dataplane, sizes in runs["fabrics"].items():
            if sizes:
                top = sizes[-1]
                measured = (f"up {ratio(top['speedup_up'])}, preview {ratio(top['speedup_preview'])} "
                            f"(best possible {ratio(top['best_speedup'])} with equal stacks")
                if "best_speedup_up" in top:
                    measured += (f"; {ratio(top['best_speedup_up'])} / {ratio(top['best_speedup_preview'])} "
                                 "with the stacks' measured times")
                measured += ")"
                if top["best_speedup"] < 2:
                    # The target is for independent stacks; these wait for another (ClusterLink: the CA's owner).
                    verdict = "not applicable: the stacks are not independent"
                else:
                    verdict = _verdict(min(top["speedup_up"], top["speedup_preview"]) >= fabric_runs.TARGET)
                rows.append((f"`--parallel 2` at least {fabric_runs.TARGET}x serial for independent stacks "
                             f"({dataplane}, N={top['clusters']})", measured, verdict))
    scale = results.get("fabric_scale")
    if scale:
        top = scale["sizes"][-1]["clusters"]
        rows += [(f"{title} at N={top} within {fabric_scale.TARGET}x of N={scale['sizes'][0]['clusters']}", measured,
                  _verdict(met)) for title, measured, met in fabric_scale.verdicts(scale)]
    traffic = results.get("clusterlink_traffic")
    if traffic:
        rows.append(("iperf3 through ClusterLink's data planes against pod to pod (issue 20: a figure, no target)",
                     clusterlink_traffic.summary(traffic), "recorded"))
    return rows


def _points(rows: list[dict[str, Any]], x: str, value: Callable[[dict[str, Any]], float]) -> list[tuple[float, float]]:
    return [(float(r[x]), value(r)) for r in rows]


DATAPLANES = {"clusterlink": "ClusterLink", "lattice": "VPC Lattice"}
SIDES = {"components": "components", "baseline": "flat baseline", "serial": "serial", "parallel": "--parallel 2"}
TITLE = "How the run time grows with the fabric"


def panels(results: dict[str, dict[str, Any]]) -> list[Panel]:
    """The figure's charts: the cost of one cluster's program (mocks, then engine) by its provider resources, and
    a whole fabric's `up` by its clusters. Each on log axes, the sizes spanning decades (the fabric's: doublings):
    a line of slope 1 grows linearly, a constant gap between two lines is a constant ratio."""
    found = []
    program = results.get("program_cost")
    if program:
        offline = Panel("One cluster's program under mocks", "provider resources it declares", "seconds",
                        log_x=True, log_y=True)
        for dataplane, rows in program["offline"].items():
            for side, dashed in (("components", False), ("baseline", True)):
                offline.series.append(Series(f"{DATAPLANES[dataplane]}, {SIDES[side]}", _points(
                    rows, "resources", lambda r, s=side: r[f"{s}_run"]["seconds"]), dashed, dataplane))
        found.append(offline)
        engine = Panel("The same program, pulumi up (ClusterLink)", "provider resources it declares", "seconds",
                       log_x=True, log_y=True)
        rows = program["engine"].get("clusterlink", [])
        for checkpoints in (True, False):
            for side in ("components", "baseline"):
                value = (lambda r, s=side: r[f"{s}_run"]["up_seconds"]) if checkpoints else \
                    (lambda r, s=side: r["no_checkpoints"][s])
                engine.series.append(Series(SIDES[side] + ("" if checkpoints else ", no checkpoints"),
                                            _points(rows, "resources", value), not checkpoints, side))
        found.append(engine)
    runs = results.get("fabric_runs")
    if runs:
        fabric = Panel("Whole-fabric up", "clusters in the fabric", "seconds", log_x=True, log_y=True)
        for dataplane, rows in runs["fabrics"].items():
            for side, dashed in (("serial", False), ("parallel", True)):
                fabric.series.append(Series(f"{DATAPLANES[dataplane]}, {SIDES[side]}", _points(
                    rows, "clusters", lambda r, s=side: r[s]["up"]), dashed, dataplane))
        found.append(fabric)
    scale = results.get("fabric_scale")
    if scale:
        found.append(_scale_panel(scale))
    return found


def _scale_panel(scale: dict[str, Any]) -> Panel:
    """Each command's time for one changed cluster as a multiple of its time in the smallest fabric, against the
    target (dashed): a flat line is a cost independent of the fabric's size."""
    rows = scale["sizes"]
    panel = Panel(f"One cluster's commands, as a multiple of N={rows[0]['clusters']}", "clusters in the fabric",
                  "time / time at the smallest fabric", log_x=True)  # multiples of 1 to a few: linear reads best
    for measure, title in fabric_scale.MEASURES.items():
        panel.series.append(Series(title, _points(rows, "clusters", lambda r, m=measure: r[m]["ratio"]),
                                   group=measure))
    panel.series.append(Series(f"target: {fabric_scale.TARGET}x", [(float(r["clusters"]), fabric_scale.TARGET)
                                                                  for r in rows], dashed=True, group="target"))
    return panel


def machine() -> str:
    cores = os.cpu_count()
    return f"{cores} cores ({platform.machine()}), Linux {platform.release()}, Python {platform.python_version()}"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    measured = sorted(r["measured_at"] for r in results.values() if "measured_at" in r)
    lines = ["# Benchmarks (issue 7)", "",
             "How the product's cost grows with the fabric, each figure a ratio to a baseline measured in the same "
             "run. Regenerate everything with `bench/run` (or `.venv/bin/python -m bench`); one benchmark with "
             "`.venv/bin/python -m bench.<name> --help` for its sizes, then `.venv/bin/python -m bench --report` "
             "to rewrite this file and `scaling.png` from `bench/results/`.", "",
             f"- **When**: the benchmarks started between {measured[0] if measured else '?'} and {measured[-1] if measured else '?'}",
             f"- **Machine**: {machine()}; the ratios are taken within one run, sides interleaved, so a load both "
             "sides share cancels out of them (the fabric runs record the load average each run started at; "
             "bench/FINDINGS.md says what else ran).",
             "- **Commands**: " + "; ".join(f"`{r['command']}`" for r in results.values() if "command" in r), "",
             "## Targets", ""]
    lines += ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(results)]
    lines += ["", "![scaling](scaling.png)", "",
              "*Left to right*: one cluster program under mocks, components (solid) and the flat baseline (dashed); "
              "the same program brought up by the engine (ClusterLink, rendered manifests), with the file "
              "backend's per-step checkpoints (solid) and without (dashed); whole-fabric `up`, serial (solid) and "
              "`--parallel 2` (dashed); one changed cluster's commands in fabrics of 10 to 1000 clusters, each as "
              "a multiple of its time in the smallest (the target dashed; that axis of multiples is linear). Every "
              "other axis is logarithmic: a line of slope 1 grows linearly, and a constant gap between two lines is "
              "a constant ratio.", ""]
    findings = BENCH / "FINDINGS.md"
    if findings.exists():
        lines += [findings.read_text().strip(), ""]
    for name, title, module in SECTIONS:
        if name not in results:
            continue
        r = results[name]
        lines += [f"## {title}", "", f"`{r.get('command', 'python -m bench.' + name)}`"
                  + (f", {r['duration_seconds'] / 60:.1f} min" if "duration_seconds" in r else ""), "",
                  module.markdown(r).strip(), "", f"**{module.summary(r)}**", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_all() -> tuple[Path, Path]:
    """Rewrite bench/RESULTS.md and bench/scaling.png; returns their paths."""
    results = load()
    image = write(BENCH / "scaling.png", panels(results), TITLE)
    report = BENCH / "RESULTS.md"
    report.write_text(markdown(results))
    return report, image
