"""A benchmark child: one cluster program evaluated under Pulumi's mocks, with the components or flat.

    python -m bench.evaluate components --fabric DIR --stack NAME
    python -m bench.evaluate record --fabric DIR --stack NAME --spec OUT.json [--render-directory DIR]
    python -m bench.evaluate baseline --spec IN.json --stack NAME

Everything is imported before the clock starts (both sides load the same SDKs);
the clock stops once every registration has been answered. Prints one JSON
line: seconds, registrations (resources the mocks saw, components included),
peak memory of this process.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pulumi
import pulumi_aws  # noqa: F401 (both sides pay for loading the SDKs before the clock)
import pulumi_kubernetes  # noqa: F401
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from clusterfabric.offline.mocked import mocked_resource
from clusterfabric.offline.plan import ORGANIZATION, resolved
from clusterfabric.components.contract import PROJECT

from .replay import REFERENCED_ATTRIBUTES, SKIPPED, Recorder, preload, read_spec, replay


class BenchMocks(pulumi.runtime.Mocks):
    """The offline plan's answers (ids and ARNs shaped like the real ones), every referable value unique."""

    def __init__(self, stack: str, recorder: Recorder | None = None, keep: bool = False,
                 published: dict[str, Any] | None = None):
        self.stack = stack
        self.recorder = recorder
        self.registrations = 0
        self.declared: list[dict[str, Any]] | None = [] if keep else None
        self.published = published or {}
        """Stack -> its outputs, answering StackReferences (as the offline plan does)."""
        self.references: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            referenced = args.inputs["name"].split("/")[-1]
            self.references.append(referenced)
            return args.inputs["name"], {"name": args.inputs["name"], "outputs": self.published.get(referenced) or {},
                                         "secretOutputNames": []}
        self.registrations += 1
        if self.declared is not None and args.custom and args.typ not in SKIPPED:
            self.declared.append({"type": args.typ, "name": args.name, "inputs": args.inputs,
                                  "provider": (args.provider or "").split("::")[-1]})
        # Every value its own: the recording finds references by value, so a key must not read as a certificate.
        resource_id, outputs = mocked_resource(args.typ, args.name, args.inputs, self.stack, "us-west-2",
                                               "111122223333", certificate=f"<{args.name} certificate>",
                                               key=f"<{args.name} key>")
        if self.recorder is not None:
            self.recorder.outputs[(args.typ, args.name)] = {
                "id": resource_id, **{k: outputs[k] for k in REFERENCED_ATTRIBUTES if k in outputs}}
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("bench.evaluate")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


def _program(args: argparse.Namespace) -> Callable[[], Any]:
    """The function to evaluate, with its imports done now."""
    if args.mode == "baseline":
        spec = read_spec(args.spec)
        preload(spec)
        return lambda: replay(spec)
    from clusterfabric.components.program import run

    if args.spec and args.spec.exists() and args.mode == "components":
        preload(read_spec(args.spec))  # the same SDK classes loaded as the baseline loads before its clock

    def components() -> Any:
        return resolved(run(args.root, args.stack, pulumi.Config(PROJECT)))  # as the offline plan publishes them

    return components


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluate")
    parser.add_argument("mode", choices=("components", "baseline", "record"))
    parser.add_argument("--stack", required=True)
    parser.add_argument("--fabric", type=Path)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project root the program runs in")
    parser.add_argument("--spec", type=Path, help="the recording: written by record, read by baseline")
    parser.add_argument("--render-directory", default="", help="'' applies instead of rendering (the offline plan's way)")
    parser.add_argument("--published", type=Path, help="JSON {stack: outputs} answering StackReferences")
    parser.add_argument("--declared", type=Path, help="also write what was declared (type, name, inputs, provider), "
                        "to check that both sides declare the same")
    args = parser.parse_args(argv)

    program = _program(args)
    recorder = Recorder() if args.mode == "record" else None
    if recorder is not None:
        recorder.install()
    published = json.loads(args.published.read_text()) if args.published else None
    mocks = BenchMocks(args.stack, recorder, keep=args.declared is not None, published=published)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=args.stack, preview=True, logger=_quiet_logger(),
                           organization=ORGANIZATION)
    pulumi.runtime.set_all_config({f"{PROJECT}:fabric": str(args.fabric or ""),
                                   f"{PROJECT}:renderDirectory": args.render_directory}, [])
    started = time.perf_counter()
    try:
        _sync_await(run_pulumi_func(program))
    except pulumi.RunError as err:
        print(f"program failed: {err}", file=sys.stderr)
        sys.exit(1)
    elapsed = time.perf_counter() - started
    if mocks.declared is not None:
        args.declared.write_text(json.dumps(sorted(mocks.declared, key=lambda d: (d["type"], d["name"])), default=str))
    if recorder is not None:
        args.spec.write_text(json.dumps(recorder.spec(render=bool(args.render_directory))))
    print(json.dumps({"seconds": elapsed, "registrations": mocks.registrations, "stack_references": mocks.references,
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
