"""A stack's config brought in line with a run: the fabric directory, and where the cluster's objects go
(the keys and their encoding are components/contract.py's)."""

from __future__ import annotations

import os
from pathlib import Path

from pulumi import automation as auto

from clusterfabric.components.contract import FABRIC, TARGET_KEYS, ClusterTarget, config_key, target_config


def prepare(stack: auto.Stack, project_dir: Path, fabric_dir: Path,
            targets: dict[str, ClusterTarget | None]) -> dict[str, str]:
    """Set what this run wants in `stack`'s config and return that config (full keys): read once, since each
    config read or write is a CLI call. `targets`: the clusters this run was told where to apply (None: render)."""
    relative = os.path.relpath(fabric_dir, project_dir)
    target = targets.get(stack.name)
    wanted = {FABRIC: relative if not relative.startswith("..") else str(fabric_dir), **target_config(target)}
    config = {k: v.value for k, v in stack.get_all_config().items()}
    changed = {config_key(k): v for k, v in wanted.items() if config.get(config_key(k)) != v}
    if changed:
        stack.set_all_config({k: auto.ConfigValue(value=v) for k, v in changed.items()})
        config.update(changed)
    stale = [config_key(k) for k in TARGET_KEYS if config_key(k) in config]
    if stack.name in targets and target is None and stale:
        # Asked to render again. Without an explicit ask the stack keeps its target: a forgotten flag must
        # never move a cluster's objects into files (that deletes them from the cluster).
        stack.remove_all_config(stale)
        for key in stale:
            del config[key]
    return config
