"""The `clusterfabric` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.model import InputError
from components.model.checks import check_fabric, load_fabric


def validate(fabric_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the fabric at `fabric_dir`, one line each; no problems when valid."""
    try:
        problems, warnings = check_fabric(load_fabric(fabric_dir))
    except InputError as err:
        return [str(p) for p in err.problems], []
    return [str(p) for p in problems], [str(w) for w in warnings]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="clusterfabric", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="check a fabric's manifests offline")
    check.add_argument("--fabric", type=Path, default=Path("config"), help="fabric directory (default: config)")
    args = parser.parse_args(argv)

    try:
        if args.command == "validate":
            problems, warnings = validate(args.fabric)
            for line in problems:
                print(line, file=sys.stderr)
            for line in warnings:
                print(f"warning: {line}", file=sys.stderr)
            if problems:
                sys.exit(1)
            print(f"{args.fabric}: valid")
    except Exception as err:  # never a traceback: say what failed, in one line
        print(f"clusterfabric: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(2)
