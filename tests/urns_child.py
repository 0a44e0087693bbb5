"""A test child: one stack of a program (this release's or an older one) under mocks; prints the URN and the
alias URNs of every provider resource it declares, the stack outputs, and each resource's type, name and inputs.

    python tests/urns_child.py PROGRAM_DIR FABRIC_DIR STACK < {"stack": outputs of the stacks it reads}

PROGRAM_DIR goes first on the path, so its `components` package is the one run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROJECT = "clusterfabric"


def main() -> None:
    program_dir, fabric_dir, stack = sys.argv[1:4]
    sys.path.insert(0, program_dir)
    published = json.loads(sys.stdin.read())

    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from clusterfabric.offline.mocked import mocked_resource, whole_numbers
    from components.program import run  # the program directory's own package, whichever release

    resources: list[dict[str, object]] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            if args.typ == "pulumi:pulumi:StackReference":
                name = args.inputs["name"]
                return name, {"name": name, "outputs": published.get(name.split("/")[-1]) or {}, "secretOutputNames": []}
            resources.append({"type": args.typ, "name": args.name, "inputs": whole_numbers(args.inputs)})
            return mocked_resource(args.typ, args.name, args.inputs, stack, "us-west-2", "111122223333")

        def call(self, args: pulumi.runtime.MockCallArgs):
            return {}

    def engine_urn(self, parent: str, type_: str, name: str) -> str:
        # The mock monitor keeps only the parent's own type; the engine qualifies a type by every ancestor's.
        if parent and parent.split("::")[2] != "pulumi:pulumi:Stack":
            type_ = f"{parent.split('::')[2]}${type_}"
        return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"  # the monitor runs outside the program's settings

    pulumi_mocks.MockMonitor.make_urn = engine_urn
    declared: list[pulumi.Resource] = []

    def note(args: pulumi.ResourceTransformationArgs) -> None:
        declared.append(args.resource)

    pulumi_mocks.set_mocks(Mocks(), project=PROJECT, stack=stack, preview=True, organization="organization")
    pulumi.runtime.set_all_config({f"{PROJECT}:fabric": fabric_dir, f"{PROJECT}:renderDirectory": ""}, [])
    found: dict[str, object] = {}

    def program():
        pulumi.runtime.register_stack_transformation(note)
        outputs = run(Path(program_dir), stack, pulumi.Config(PROJECT))
        return pulumi.Output.from_input(outputs).apply(found.update).future()

    _sync_await(run_pulumi_func(lambda: _sync_await(program())))

    async def urns() -> dict[str, list[str]]:
        return {await r.urn.future(): [await a.future() for a in r._aliases]
                for r in declared if isinstance(r, pulumi.CustomResource) and not isinstance(r, pulumi.ProviderResource)}

    print(json.dumps({"urns": _sync_await(urns()), "outputs": found, "resources": resources}, default=str))


if __name__ == "__main__":
    main()
