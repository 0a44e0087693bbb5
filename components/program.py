"""The cluster program: what `__main__.py` runs for the stack, and the offline plan runs under mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from .contract import AWAIT_READINESS, FABRIC, KUBECONFIG, RENDER_DIRECTORY, ClusterTarget, default_fabric_dir
from .stack import build_stack
from .model import InputError, load_fabric, run_order


def main() -> None:
    """The stack of a project's `__main__.py`: this one's, and that of every fabric `clusterfabric init` made."""
    from .contract import PROJECT

    for name, value in run(Path(pulumi.get_root_directory()), pulumi.get_stack(), pulumi.Config(PROJECT)).items():
        pulumi.export(name, value)


def run(root: Path, stack: str, config: pulumi.Config) -> dict[str, Any]:
    """Declare stack `stack` of the project at `root`; returns the stack outputs.

    Stack config: the keys of components/contract.py (fabric directory, render directory, kubeconfig, whether
    to await readiness), each with its default there.
    """
    render = config.get(RENDER_DIRECTORY)
    target = ClusterTarget(
        render_directory=root / "rendered" / stack if render is None else (root / render if render else None),
        kubeconfig=config.get(KUBECONFIG) or None,
        controllers=config.get_bool(AWAIT_READINESS) is not False,
    )
    try:
        fabric = load_fabric(root / config.get(FABRIC) if config.get(FABRIC) else default_fabric_dir(root))
        fabric.spec.cluster(stack)
        run_order(fabric, fabric.fabric_file)  # a cycle of stacks needing each other can never deploy
    except InputError as err:
        raise pulumi.RunError(f"invalid fabric input:\n{err}") from None
    except KeyError as err:
        raise pulumi.RunError(str(err.args[0])) from None
    return build_stack(fabric, stack, target, root)
