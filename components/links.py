"""The links between cluster stacks: one StackReference per stack a stack reads, never one per fabric member.

What the stacks publish, and how it is read back, is components/contract.py's; the stack's assembly,
components/stack.py's.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import pulumi


def stack_reference_name(stack: str) -> str:
    """The fully qualified name of a sibling stack of this project."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack}"


class PeerStacks:
    """One StackReference for each stack in `stacks`, read together."""

    def __init__(self, stacks: Iterable[str], opts: pulumi.ResourceOptions | None = None):
        self.references = {s: pulumi.StackReference(stack_reference_name(s), opts=opts) for s in sorted(set(stacks))}

    def outputs(self, name: str) -> pulumi.Output[dict[str, Any]]:
        """`{stack: value of output name (None when the stack has not published it)}`."""
        return pulumi.Output.all(**{s: ref.get_output(name) for s, ref in self.references.items()})

    def output_of(self, stack: str, name: str) -> pulumi.Output[Any]:
        return self.references[stack].get_output(name)

    def then(self, name: str, declare: Callable[..., Any], *also: pulumi.Output[Any]) -> pulumi.Output[Any]:
        """`declare(outputs(name), *also)` in an apply, once the stacks are read (and `also`, further outputs, are
        known); an apply also when there are none.
        The SDK records every resource's whole call stack into the stack's state, and the engine's file backend
        writes that state after each step: an apply runs from the event loop, below the program's own frames,
        so the state is smaller (0.9 KB less per resource) and `up` of a large stack faster (bench/FINDINGS.md)."""
        published = self.outputs(name) if self.references else pulumi.Output.from_input({})
        if also:
            return pulumi.Output.all(published, *also).apply(lambda values: declare(*values))
        return published.apply(declare)
