"""Running components under Pulumi's mocks, in this process, and seeing what they declare.

Behind the mocks sits the stateful Lattice fake (clusterfabric/offline/lattice_fake.py): every Lattice resource a
program declares is created there too, and what the Lattice API would refuse is a refusal of the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from clusterfabric.offline.lattice_fake import LatticeFake, Scope
from clusterfabric.offline.mocked import mocked_resource, whole_numbers

SCOPE: Scope = ("111122223333", "us-west-2")


@dataclass
class Declared:
    """What a program declared: each resource's type, name and inputs (as serialized to the engine), and what the
    Lattice fake refused."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def of_type(self, suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"].endswith(suffix)]

    def one(self, suffix: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(suffix) if name is None or r["name"] == name]
        assert len(found) == 1, f"{len(found)} resources of type {suffix} named {name}: {[r['name'] for r in found]}"
        return found[0]


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, declared: Declared, lattice: LatticeFake, scope: Scope, stack: str):
        self.declared, self.lattice, self.scope, self.stack = declared, lattice, scope, stack

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.declared.resources.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        account, region = self.scope
        resource_id, outputs = mocked_resource(args.typ, args.name, args.inputs, self.stack, region, account)
        refusal = self.lattice.apply(self.stack, self.scope, args.typ, args.name, resource_id, outputs.get("arn"),
                                     whole_numbers(args.inputs))
        if refusal:
            self.declared.refusals.append(refusal)
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def declare(program: Callable[[], Any], lattice: LatticeFake | None = None, scope: Scope = SCOPE,
            stack: str = "test", refusals_allowed: bool = False, into: Declared | None = None) -> Declared:
    """Run `program` under mocks and wait until everything it declared is registered. Its Lattice resources are
    created in `lattice` (a new fake: an empty account), in `scope`; a refusal fails the test unless allowed.
    `into`: where to record what is declared, to see it also when the program raises."""
    declared = into if into is not None else Declared()
    pulumi_mocks.set_mocks(_Mocks(declared, lattice or LatticeFake(), scope, stack), preview=True)
    _sync_await(run_pulumi_func(program))
    assert refusals_allowed or declared.refusals == [], "the Lattice API would refuse:\n" + "\n".join(declared.refusals)
    return declared
