"""The `clusterfabric` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.model import InputError
from components.model.checks import check_fabric, load_fabric

from .toolchain import PROJECT_DIR


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
    offline = commands.add_parser("plan", help="what each stack would declare, evaluated under mocks")
    offline.add_argument("--offline", action="store_true", required=True,
                         help="evaluate under Pulumi's mocks: no engine, no credentials (the only mode so far)")
    offline.add_argument("--fabric", type=Path, default=Path("config"), help="fabric directory (default: config)")
    offline.add_argument("--stack", action="append", help="only this stack (repeatable; default: all)")
    offline.add_argument("--json", action="store_true", help="print the plan as JSON")
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
        elif args.command == "plan":
            sys.exit(plan_command(args))
    except Exception as err:  # never a traceback: say what failed, in one line
        print(f"clusterfabric: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(2)


def plan_command(args: argparse.Namespace) -> int:
    from .offline import plan

    def progress(stack: str, entry: dict) -> None:
        status = "failed" if entry.get("errors") else f"{len(entry['resources'])} resources"
        print(f"plan: {stack}: {status}", file=sys.stderr)

    try:
        result = plan(PROJECT_DIR, args.fabric.resolve(), args.stack, progress=progress)
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    except KeyError as err:
        print(f"clusterfabric: {err.args[0]}", file=sys.stderr)
        return 1
    failed = [s for s, entry in result["stacks"].items() if entry.get("errors")]
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        for stack, entry in result["stacks"].items():
            print(f"{stack}: {len(entry['resources'])} resources")
            for message in entry["warnings"]:
                print(f"  warning: {message}")
            for message in entry.get("errors", []):
                print(f"  error: {message}")
    return 1 if failed else 0
