"""Changes to a deployed fabric's copy, as the ClusterLink traffic tests make them (on the process emulation,
tests/engine/test_clusterlink_traffic.py, and on real nodes, tests/engine/test_clusterlink_nodes.py)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


def edit(fabric, path: str, text: str | None) -> str | None:
    """Write (or with None, remove) a manifest of the fabric copy; what it held before."""
    file = fabric.fabric_dir / path
    before = file.read_text() if file.exists() else None
    if text is None:
        file.unlink()
    else:
        file.write_text(text)
    return before


def up(fabric, *stacks: str, force: bool = False) -> None:
    """`fabric.up(stacks)`; `force`: a change that removes what others import, or all a stack shares."""
    if force:
        fabric = type(fabric)(fabric.fabric_dir, project_dir=fabric.project_dir, targets=fabric.targets, force=True)
    result = fabric.up(list(stacks))
    assert result.ok, [(s.stack, s.result, s.message) for s in result.stacks]


@contextmanager
def deployed_edit(fabric, path: str, text: str | None) -> Iterator[None]:
    """The manifest at `path` (`<cluster>/<file>`) changed and its cluster's stack brought up for the block; then
    the manifest restored and brought up again, also when the block failed."""
    cluster = path.split("/", 1)[0]
    before = edit(fabric, path, text)
    try:
        up(fabric, cluster)
        yield
    finally:
        edit(fabric, path, before)
        up(fabric, cluster)


def allow_only(selector: str) -> str:
    """An AccessPolicy of namespace default allowing only connections `from` workloads matching `selector`."""
    key, value = selector.split("=")
    return ("apiVersion: clusterlink.net/v1alpha1\nkind: AccessPolicy\nmetadata:\n  name: allow-all\n"
            "  namespace: default\nspec:\n  action: allow\n  from:\n    - workloadSelector:\n        matchLabels:\n"
            f"          {key}: {value}\n  to:\n    - workloadSelector: {{}}\n")
