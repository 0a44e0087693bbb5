"""`python -m clusterfabric.gitops.changed --base REF [--fabric DIR]`: the stacks a change since REF affects, one a line."""

import argparse
from pathlib import Path

from clusterfabric.components.contract import default_fabric_dir
from clusterfabric.components.model import dependencies

from .comment import GitError, changed_stacks
from ..runner.fabric import Fabric


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clusterfabric.gitops.changed", description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--fabric", type=Path, default=default_fabric_dir(Path(".")),
                        help="default: the current directory when it holds a fabric.yaml, else config")
    args = parser.parse_args(argv)
    fabric = Fabric(args.fabric.absolute())
    model = fabric.load()  # once: loading a fabric of a thousand clusters takes seconds
    try:
        changed = changed_stacks(model, fabric.project_dir, fabric.fabric_dir, args.base)
    except GitError as err:
        parser.exit(1, f"{parser.prog}: {err}\n")
    for stack in sorted(dependencies(model).affected(changed)) if changed else []:
        print(stack)


if __name__ == "__main__":
    main()
