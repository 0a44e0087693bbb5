"""Running components under Pulumi's mocks, in this process, and seeing what they declare."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from clusterfabric.offline import LATTICE_IDS, _fake_id


@dataclass
class Declared:
    """What a program declared: each resource's type, name and inputs (as serialized to the engine)."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"].endswith(suffix)]

    def one(self, suffix: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.of_type(suffix) if name is None or r["name"] == name]
        assert len(found) == 1, f"{len(found)} resources of type {suffix} named {name}: {[r['name'] for r in found]}"
        return found[0]


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, declared: Declared):
        self.declared = declared

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.declared.resources.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        outputs = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ in LATTICE_IDS:
            prefix, kind = LATTICE_IDS[args.typ]
            resource_id = _fake_id(prefix, args.name)
            outputs["arn"] = f"arn:aws:vpc-lattice:us-west-2:111122223333:{kind}/{resource_id}"
            outputs["listener_id"] = resource_id
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def declare(program: Callable[[], Any]) -> Declared:
    """Run `program` under mocks and wait until everything it declared is registered."""
    declared = Declared()
    pulumi_mocks.set_mocks(_Mocks(declared), preview=True)
    _sync_await(run_pulumi_func(program))
    return declared
