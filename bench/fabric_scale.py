"""One cluster's cost against the fabric's size (issue 27): 10, 100 and 1000 generated ClusterLink clusters.

    python -m bench.fabric_scale [--sizes 10,100,1000] [--repeats 2]

Each fabric is `python -m bench.generate --clusters N --exports 5 --imports 3`, made a repository of its own
(`clusterfabric init`, committed to `main`), then changed in one cluster, the middle one (`c005`, `c050`, `c500`:
the same shape at every size): its Services' targetPort, not committed. Each measure is the command a user runs,
in a child process of its own (wall time, and the peak memory of the largest process it waited for):

- validate: `clusterfabric validate`;
- graph: `clusterfabric graph` (the Mermaid chart);
- changed: `python -m clusterfabric.gitops.changed --base main`, the stacks the change affects (what the
  pull-request workflow previews);
- plan: `clusterfabric plan --offline --stack <changed>`;
- comment: `clusterfabric comment --base main`, the pull-request comment, in its offline form: the stacks the
  change affects read the fabric CA owner's certificates, which are not deployed here (deploying a thousand stacks
  is out of this machine's reach), so the fabric layer evaluates each under mocks, as it does on a pull request
  before the owner's first `up`; the engine's CLI still runs for what the stacks' state holds.

Sizes interleaved (each repeat runs every size, the order reversed every other repeat); medians. The figure: each
measure's time at N as a multiple of its time at N = 10, the target at most 1.5x.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cli import main_of, sizes
from .generate import Shape, cluster_name, generate
from .measure import Table, interleave, median, python_child, ratio, seconds

NAME = "fabric_scale"
TARGET = 1.5
"""Each measure at N clusters within this multiple of its time at the smallest N (issue 27)."""
EXPORTS, IMPORTS = 5, 3
MEASURES = {
    "validate": "`validate`",
    "graph": "`graph`",
    "changed": "changed stacks",
    "plan": "one stack's `plan --offline`",
    "comment": "one change's PR comment (offline form)",
}


ALLOWED = {"comment": (0, 3)}
"""Exit statuses that are success: the comment's 3 says its stacks were planned offline (clusterfabric/gitops/report.py),
as they are here."""


def changed_cluster(clusters: int) -> str:
    return cluster_name(clusters // 2)


def repository(directory: Path, clusters: int) -> Path:
    """The generated fabric of `clusters` as a repository of its own, its middle cluster changed since `main`."""
    from clusterfabric.runner.init import init_fabric

    generate(directory, Shape(clusters, EXPORTS, IMPORTS, "clusterlink"))
    init_fabric(directory)
    git = ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "fabric"]):
        subprocess.run(git + args, cwd=directory, check=True, capture_output=True)
    services = directory / changed_cluster(clusters) / "services.yaml"
    services.write_text(services.read_text().replace('"targetPort": 8080', '"targetPort": 8081'))
    return directory


def command(measure: str, fabric: Path, clusters: int) -> list[str]:
    """The module and arguments of `measure`, a command line a user runs."""
    where = ["--fabric", str(fabric)]
    return {
        "validate": ["clusterfabric", "validate", *where],
        "graph": ["clusterfabric", "graph", *where],
        "changed": ["clusterfabric.gitops.changed", "--base", "main", *where],
        "plan": ["clusterfabric", "plan", "--offline", "--stack", changed_cluster(clusters), *where],
        "comment": ["clusterfabric", "comment", "--base", "main", "--output", str(fabric.parent / "comment.md"),
                    *where],
    }[measure]


def _run(measure: str, fabric: Path, clusters: int) -> dict[str, Any]:
    module, *args = command(measure, fabric, clusters)
    run = python_child(module, *args, cwd=fabric)
    if run.returncode not in ALLOWED.get(measure, (0,)):
        raise RuntimeError(f"{measure} at N={clusters} failed ({run.returncode}):\n{run.stdout[-2000:]}\n"
                           f"{run.stderr[-2000:]}")
    return {"seconds": run.wall, "maxrss_kb": run.maxrss_kb, "stdout": run.stdout}


def _affected(stdout: str) -> list[str]:
    return stdout.split()


def measure(clusters: list[int], repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {"repeats": repeats, "exports": EXPORTS, "imports": IMPORTS, "sizes": []}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        fabrics = {n: repository(Path(tmp) / f"n{n}" / "fabric", n) for n in clusters}
        by_measure = {m: interleave(repeats, {str(n): (lambda m=m, n=n: _run(m, fabrics[n], n)) for n in clusters})
                      for m in MEASURES}
        for n in clusters:
            row: dict[str, Any] = {"clusters": n, "changed_cluster": changed_cluster(n),
                                   "affected": _affected(by_measure["changed"][str(n)][0]["stdout"])}
            for m in MEASURES:
                runs = by_measure[m][str(n)]
                row[m] = {"seconds": median([r["seconds"] for r in runs]),
                          "maxrss_kb": max(r["maxrss_kb"] for r in runs)}
            results["sizes"].append(row)
        shutil.rmtree(tmp, ignore_errors=True)
    base = results["sizes"][0]
    for row in results["sizes"]:
        for m in MEASURES:
            row[m]["ratio"] = row[m]["seconds"] / base[m]["seconds"]
    return results


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(measure, its ratios at every size, whether the largest is within TARGET of the smallest)."""
    rows = results["sizes"]
    return [(title, ", ".join(f"N={r['clusters']}: {ratio(r[m]['ratio'])}" for r in rows),
             rows[-1][m]["ratio"] <= TARGET) for m, title in MEASURES.items()]


def markdown(results: dict[str, Any]) -> str:
    rows = results["sizes"]
    table = Table(["measure"] + [f"N = {r['clusters']}" for r in rows] + ["peak memory (largest process)"])
    for m, title in MEASURES.items():
        table.add(title, *(f"{seconds(r[m]['seconds'])} (**{ratio(r[m]['ratio'])}**)" for r in rows),
                  " / ".join(f"{r[m]['maxrss_kb'] / 1024:.0f} MB" for r in rows))
    affected = "; ".join(f"N={r['clusters']}: {r['changed_cluster']} changed, previewed with "
                         f"{len(r['affected'])} stacks ({', '.join(r['affected'])})" for r in rows)
    return "\n".join([
        f"ClusterLink fabrics of {results['exports']} exports and {results['imports']} imports per cluster; median of "
        f"{results['repeats']} runs of each command at each size, the sizes interleaved; in brackets the time as a "
        f"multiple of the smallest fabric's (target: at most {TARGET}x). Peak memory: at each size, the largest "
        "process a run waited for (the comment's offline evaluations are processes of their own).", "",
        table.markdown(), "", f"The change: {affected}.", ""])


def summary(results: dict[str, Any]) -> str:
    top = results["sizes"][-1]
    return (f"one cluster's cost at N={top['clusters']} against N={results['sizes'][0]['clusters']} (target <= "
            f"{TARGET}x): " + "; ".join(f"{m} {ratio(top[m]['ratio'])}" for m in MEASURES))


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=sizes, default=[10, 100, 1000], help="clusters, the first the baseline")
    parser.add_argument("--repeats", type=int, default=2)


def run(args: argparse.Namespace) -> dict[str, Any]:
    return measure(args.sizes, args.repeats)


def main(argv: list[str] | None = None) -> None:
    main_of(NAME, __doc__, arguments, run, markdown, summary, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
