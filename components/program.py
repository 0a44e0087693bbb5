"""The cluster program: what `__main__.py` runs for the stack, and the offline plan runs under mocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from .cluster import Target
from .links import build_stack
from .model import InputError, load_fabric, run_order


def run(root: Path, stack: str, config: pulumi.Config) -> dict[str, Any]:
    """Declare stack `stack` of the project at `root`; returns the stack outputs.

    Stack config: `clusterfabric:fabric` (fabric directory, default `config`),
    `clusterfabric:renderDirectory` (default `rendered/<stack>`; "" applies to
    a cluster instead of rendering), `clusterfabric:kubeconfig` (the path of
    that cluster's kubeconfig; default the ambient one), and
    `clusterfabric:awaitReadiness` (default true; false for an API server with
    no controllers, such as the local control planes).
    """
    render = config.get("renderDirectory")
    target = Target(
        render_directory=root / "rendered" / stack if render is None else (root / render if render else None),
        kubeconfig=config.get("kubeconfig") or None,
        await_readiness=config.get_bool("awaitReadiness") is not False,
    )
    try:
        fabric = load_fabric(root / (config.get("fabric") or "config"))
        fabric.spec.cluster(stack)
        run_order(fabric, fabric.fabric_file)  # a cycle of stacks needing each other can never deploy
    except InputError as err:
        raise pulumi.RunError(f"invalid fabric input:\n{err}") from None
    except KeyError as err:
        raise pulumi.RunError(str(err.args[0])) from None
    return build_stack(fabric, stack, target)
