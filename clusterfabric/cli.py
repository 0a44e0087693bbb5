"""The `clusterfabric` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.model import InputError, load_cluster_manifests, load_fabric_spec


def validate(fabric_dir: Path) -> list[str]:
    """Every problem in the fabric at `fabric_dir`, one line each; empty when valid."""
    try:
        spec = load_fabric_spec(fabric_dir)
    except InputError as err:
        return [str(p) for p in err.problems]
    problems: list[str] = []
    for cluster in spec.clusters:
        try:
            load_cluster_manifests(fabric_dir, cluster.name)
        except InputError as err:
            problems += [str(p) for p in err.problems]
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clusterfabric", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a fabric's manifests offline")
    check.add_argument("--fabric", type=Path, default=Path("config"), help="fabric directory (default: config)")
    args = parser.parse_args(argv)

    if args.command == "validate":
        problems = validate(args.fabric)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            sys.exit(1)
        print(f"{args.fabric}: valid")
