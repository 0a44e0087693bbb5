"""How a fabric run is reported, the same in the CLI's table and the pull-request comment: one row per stack,
real changes apart from what was only evaluated under mocks, and an exit status that tells them apart.

Exit status of `up`, `preview` and `comment`:
  0  every stack ran for real and succeeded
  3  none failed, but some were only planned offline (evaluated under mocks: not deployed, not previewed)
  1  a stack failed, was refused or was skipped
"""

from __future__ import annotations

from typing import Any

CHANGES = ("create", "update", "replace", "delete")
COLUMNS = ("stack", "result", *CHANGES, "planned offline", "duration")
EXIT_OK, EXIT_FAILED, EXIT_PLANNED_OFFLINE = 0, 1, 3


def row(stack: Any) -> tuple[str, ...]:
    """A stack's cells: the changes of a real run, or, for a stack evaluated under mocks, the resources it would
    declare in a column of their own (they are no preview of the stack's state)."""
    offline = stack.result == "planned offline"
    changes = tuple("-" if offline else str(stack.changes.get(k, 0)) for k in CHANGES)
    planned = str(sum(stack.changes.values())) if offline else "-"
    return (stack.stack, stack.result, *changes, planned, f"{stack.duration:.1f}s")


def exit_status(result: Any) -> int:
    if not result.ok:
        return EXIT_FAILED
    if any(s.result == "planned offline" for s in result.stacks):
        return EXIT_PLANNED_OFFLINE
    return EXIT_OK
