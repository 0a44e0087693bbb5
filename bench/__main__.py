"""`python -m bench`: every benchmark of issue 7, then bench/RESULTS.md and bench/scaling.png rewritten.

    python -m bench              the sizes the issue asks for (about half an hour on two cores)
    python -m bench --quick      small sizes, to check that everything runs (a few minutes)
    python -m bench --only validate_cost,stack_refs
    python -m bench --report     only rewrite RESULTS.md and scaling.png from bench/results/

Each benchmark prints its figure last; this prints the targets' verdicts last.
"""

from __future__ import annotations

import argparse
import sys

from . import clusterlink_traffic, fabric_runs, fabric_scale, program_cost, stack_refs, validate_cost
from .report import targets, load, write_all

BENCHMARKS = {"validate_cost": validate_cost, "stack_refs": stack_refs, "program_cost": program_cost,
              "fabric_runs": fabric_runs, "clusterlink_traffic": clusterlink_traffic, "fabric_scale": fabric_scale}
QUICK = {
    "validate_cost": ["--clusters", "10", "--objects", "20", "--repeats", "1"],
    "stack_refs": ["--sizes", "2,3"],
    "program_cost": ["--sizes", "10,30", "--engine-sizes", "5,10", "--repeats", "1", "--engine-repeats", "1"],
    "fabric_runs": ["--sizes", "2", "--exports", "2"],
    "clusterlink_traffic": ["--seconds", "1", "--repeats", "1", "--connections", "3"],
    "fabric_scale": ["--sizes", "10,20", "--repeats", "1"],  # from 10: the middle cluster's readers leave the CA owner out
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--report", action="store_true", help="only rewrite RESULTS.md and scaling.png")
    args = parser.parse_args(argv)
    if not args.report:
        for name in (args.only.split(",") if args.only else BENCHMARKS):
            print(f"==> bench.{name}", file=sys.stderr, flush=True)
            BENCHMARKS[name].main(QUICK[name] if args.quick else [])
    report, image = write_all()
    print(f"wrote {report} and {image}")
    for target, measured, verdict in targets(load()):
        print(f"{verdict.strip('*')}: {target}: {measured}")


if __name__ == "__main__":
    main()
