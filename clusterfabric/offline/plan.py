"""The offline plan: every cluster program evaluated under Pulumi's mocks, no engine, no credentials.

Stacks run in dependency order, each in a process of its own (the Pulumi
runtime is process-global); a StackReference is answered with the offline
outputs of the stack it names: a Lattice stack's from its evaluation (each
evaluated once), a ClusterLink peer's from its manifests, which decide what
it publishes (components/contract.py), so a plan of one stack evaluates that
stack and the Lattice stacks it reads, never the fabric's other ClusterLink
stacks or what they read. Mocked resources get ids and ARNs shaped like
the real ones. Nothing secret exists offline: certificates are not issued, and
their outputs are placeholders.

Mocks accept anything, AWS does not: behind them, what each Lattice stack
declares is created in a stateful fake of the Lattice API (lattice_fake.py),
stack after stack in the order `up` would run them, per account and Region;
what the API would refuse is an error of the stack that asked for it.
"""

from __future__ import annotations

import json
import logging
import pickle
import subprocess
import threading
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from clusterfabric.components.contract import (CERTIFICATES_OUTPUT, FABRIC, PROJECT, RENDER_DIRECTORY, ROTATION_OUTPUT,
                                              certificates_output, clusterlink_manifest_outputs, config_key,
                                              manifest_outputs)
from clusterfabric.components.model import FabricManifests, load_fabric
from clusterfabric.components.model.graph import Graph, dependencies, run_order
from clusterfabric.components.model.json_values import DESCEND, is_secret, rebuilt
from clusterfabric.components.model.lattice import LatticeOrganization, ServiceImport
from clusterfabric.components.model.rotation import RotationState
from clusterfabric.components.model.validation import whole_numbers

from .lattice_fake import LatticeFake, Organization
from .mocked import PLACEHOLDER, mocked_resource

ORGANIZATION = "organization"
def _masked(value: Any) -> Any:
    """Secret values shown as `[secret]`, as `pulumi preview` shows them."""
    return rebuilt(value, lambda v: "[secret]" if is_secret(v) else DESCEND)


async def resolved(value: Any) -> Any:
    """Stack outputs as plain values. Unlike `Output.from_input`, an Output is awaited, not re-wrapped: from_input
    makes an Output of every value inside a resolved Output's value, thousands for a stack's export list. (Its own
    walk, not json_values.rebuilt: it awaits.)"""
    from pulumi import Output  # imported where a program runs: the fabric layer imports this module too

    async def plain(value: Any) -> Any:
        if isinstance(value, Output):
            return await plain(await value.future())
        if isinstance(value, dict):
            return {k: await plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [await plain(v) for v in value]
        return value

    return await plain(value)


def _public(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs as shown in the plan: whole numbers as ints, secrets masked, the dynamic provider's serialized code
    left out."""
    return {k: _masked(whole_numbers(v)) for k, v in inputs.items() if not k.startswith("__")}


def run_stack(request: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one stack under mocks (in this process); returns resources, outputs, warnings, errors."""
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from clusterfabric.components.program import run

    stack, outputs_of, account, region = request["stack"], request["outputs"], request["account"], request["region"]
    resources: list[dict[str, Any]] = []
    messages: list[tuple[str, str]] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            if args.typ == "pulumi:pulumi:StackReference":
                referenced = args.inputs["name"].split("/")[-1]
                return args.inputs["name"], {"name": args.inputs["name"], "outputs": outputs_of.get(referenced) or {},
                                             "secretOutputNames": []}
            resources.append({"type": args.typ, "name": args.name, "inputs": _public(args.inputs)})
            return mocked_resource(args.typ, args.name, args.inputs, stack, region, account)

        def call(self, args: pulumi.runtime.MockCallArgs):
            return {}

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append((record.levelname.lower(), record.getMessage()))

    logger = logging.getLogger(f"clusterfabric.offline.plan.{stack}")
    logger.propagate = False
    logger.addHandler(Capture())
    logger.setLevel(logging.INFO)
    pulumi_mocks.set_mocks(Mocks(), project=PROJECT, stack=stack, preview=True, logger=logger,
                           organization=ORGANIZATION)
    config = {config_key(FABRIC): request["fabric"], config_key(RENDER_DIRECTORY): ""}
    pulumi.runtime.set_all_config(config, [])
    result: dict[str, Any] = {}

    def program():
        outputs = run(Path(request["root"]), stack, pulumi.Config(PROJECT))

        async def publish() -> None:
            result.update(await resolved(outputs))
        return publish()

    errors: list[str] = []
    try:
        _sync_await(run_pulumi_func(program))
    except pulumi.RunError as err:
        errors.append(str(err))
    errors += [m for level, m in messages if level == "error"]
    return {"resources": resources, "outputs": result,
            "warnings": [m for level, m in messages if level == "warning"], "errors": errors}


def _settings_of(fabric, stack: str) -> tuple[str, str]:
    lattice = fabric.spec.cluster(stack).lattice
    return (lattice.accountId, lattice.region) if lattice else ("000000000000", "none")


def lattice_api(fabric: FabricManifests) -> LatticeFake:
    """The Lattice API a plan of `fabric` creates its stacks' resources in, holding what fabric.yaml and the
    manifests say exists (AWS has it, presumably): the quotas AWS raised, the Organization with sharing enabled,
    the target groups outside the fabric that ServiceImports name by ARN, and the networks fabric.yaml references
    by ARN, shared with the accounts of the fabric's clusters of their Region."""
    settings = fabric.spec.lattice
    api = LatticeFake({(q.accountId, q.region): {"listenersPerService": q.listenersPerService,
                                                 "rulesPerListener": q.rulesPerListener} for q in settings.quotas},
                      _organization(settings.organization))
    for spec in fabric.spec.clusters:
        for imp in fabric.manifests[spec.name].of_kind(ServiceImport) if spec.lattice else []:
            if imp.target_group_arn:
                api.existing_target_group(imp.target_group_arn)
    for network in (n for n in settings.serviceNetworks if n.arn):
        api.existing_network(network.arn, network.name)  # type: ignore[arg-type]
        api.existing_share(network.arn, {c.lattice.accountId for c in fabric.spec.clusters  # type: ignore[arg-type]
                                         if c.lattice and c.lattice.region == network.region} - {network.account})
    return api


def _organization(organization: LatticeOrganization | None) -> Organization | None:
    if organization is None:
        return None
    return Organization(organization.arn, list(organization.accounts),
                        {unit.arn: list(unit.accounts) for unit in organization.units})


def mocked_identity(stack: str, region: str, account: str) -> Callable[[str, str, dict[str, Any]], tuple[str, Any]]:
    """The id and ARN the mocks give each resource of `stack` (typ, name, inputs -> id, ARN or None)."""
    def identify(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, Any]:
        resource_id, outputs = mocked_resource(typ, name, inputs, stack, region, account)
        return resource_id, outputs.get("arn")
    return identify


def _create(lattice: LatticeFake, fabric: FabricManifests, stack: str, resources: list[dict[str, Any]]) -> list[str]:
    """What the Lattice API answers to `pulumi up` of `stack`: a line for each create it refuses."""
    account, region = _settings_of(fabric, stack)
    if fabric.spec.cluster(stack).lattice is None:
        return []
    return lattice.replay(stack, (account, region), resources, mocked_identity(stack, region, account))


def plan(root: Path, fabric_dir: Path, stacks: list[str] | None = None,
         progress: Callable[[str, dict[str, Any]], None] | None = None, *,
         known: dict[str, Any] | None = None, on_evaluated: Callable[[str, dict[str, Any]], None] | None = None,
         fabric: FabricManifests | None = None, graph: Graph | None = None, lattice: LatticeFake | None = None) -> dict[str, Any]:
    """`{"stacks": {name: {"resources", "outputs", "warnings"[, "errors"]}}}` for `stacks` (default all).

    The Lattice stacks they read are evaluated too (in dependency order), so
    their outputs can answer the StackReferences, but only `stacks` are
    reported; a ClusterLink stack they read is answered from its manifests
    (`peer_outputs`), as published when it comes before the reader in the run
    order, as not deployed yet when after, as in a plan of the whole fabric.

    `known`: offline outputs of stacks of this fabric evaluated earlier (by an
    earlier plan); they are not evaluated again, but answer the StackReferences
    as if they had been, at the same point of the order (what only they read is
    still evaluated unless known too). `on_evaluated(stack, outputs)` is told the
    outputs of every stack evaluated without errors, reported or not: the
    `known` of a later plan. `fabric` and `graph`: the loaded fabric and its
    `dependencies`, when the caller has them already.

    `lattice`: the fake Lattice API to create in, holding what the earlier plans
    of the same run created (the `known` stacks' resources); default a new one,
    where only the stacks this plan evaluates exist.
    """
    fabric = fabric if fabric is not None else load_fabric(fabric_dir)
    lattice = lattice if lattice is not None else lattice_api(fabric)
    graph = graph or dependencies(fabric)
    order = run_order(fabric, graph=graph)
    wanted = set(stacks or order)
    unknown = wanted - set(order)
    if unknown:
        raise KeyError(f"no stack {', '.join(sorted(unknown))} in the fabric (stacks: {', '.join(order)})")
    needed, answered = _needed(fabric, graph, wanted, set(known or {}))
    known = {s: o for s, o in (known or {}).items() if s in needed and s not in wanted}  # a reported one is evaluated
    outputs: dict[str, Any] = {}
    report: dict[str, Any] = {}
    pending = [s for s in order if s in needed]
    with ThreadPoolExecutor(max_workers=2) as pool:
        while pending:
            # Ready: every stack it reads that comes earlier in the run order is done (independent ones in parallel).
            ready = [s for s in pending if all(d in outputs for d in graph.needs(s) & needed
                                               if order.index(d) < order.index(s))]
            # Each sees the outputs of the stacks done before it (a copy: the others' results arrive meanwhile).
            futures = {s: pool.submit(_evaluate, root, fabric_dir, s, {**_answers(fabric, graph, answered, s, order),
                                                                        **outputs}, *_settings_of(fabric, s))
                       for s in ready if s not in known}
            outputs.update({s: known[s] for s in ready if s in known})
            for s, future in futures.items():
                result = future.result()
                result["errors"] += _create(lattice, fabric, s, result["resources"])
                outputs[s] = result["outputs"]
                if on_evaluated and not result["errors"]:
                    on_evaluated(s, result["outputs"])
                if s in wanted:
                    entry = {k: result[k] for k in ("resources", "outputs", "warnings")}
                    if result["errors"]:
                        entry["errors"] = result["errors"]
                    report[s] = entry
                    if progress:
                        progress(s, entry)
            pending = [s for s in pending if s not in ready]
    return {"stacks": {s: report[s] for s in order if s in report}}


def _needed(fabric: FabricManifests, graph: Graph, wanted: set[str], known: set[str]) -> tuple[set[str], set[str]]:
    """(evaluated, answered) for a plan of `wanted`: the stacks to evaluate (`wanted`, and the stacks they read,
    directly or not, whose outputs only their program knows: Lattice ones) and the ClusterLink stacks they read,
    answered from their manifests (`peer_outputs`) without evaluating them or what they read. A ClusterLink stack
    `known` (evaluated by an earlier plan) stays as it was handed over."""
    needed, answered = set(wanted), set()
    reading = set(wanted)
    while reading:
        read = {d for s in reading for d in graph.needs(s)} - needed - answered
        by_model = {d for d in read if fabric.spec.cluster(d).dataplane == "clusterlink" and d not in known}
        answered |= by_model
        reading = read - by_model
        needed |= reading
    return needed, answered


def peer_outputs(fabric: FabricManifests, stack: str, reader: str) -> dict[str, Any]:
    """What ClusterLink stack `stack` outputs when evaluated offline, from its manifests (the outputs
    components/contract.py says they decide), as `reader` reads it: what answers its StackReference to `stack`.
    Certificates are placeholders, as under mocks (nothing is issued offline), at the first rotation state (nothing
    offline was rotated); the certificates' dates, which no stack reads, are left out. The CA owner's bundle holds
    the reader's own certificate only, the one it reads: the SDK makes an Output of every value of a StackReference's
    outputs, and the whole bundle's thousands (two per peer) made each reader's plan grow with the fabric."""
    spec = fabric.spec.cluster(stack)
    outputs = {**manifest_outputs(fabric, stack, None), **clusterlink_manifest_outputs(spec, fabric.manifests[stack]),
               ROTATION_OUTPUT: RotationState().output()}
    if stack == fabric.ca_owner():
        outputs[CERTIFICATES_OUTPUT] = certificates_output(PLACEHOLDER, {reader: (PLACEHOLDER, PLACEHOLDER)})
    return outputs


def _answers(fabric: FabricManifests, graph: Graph, answered: set[str], stack: str,
             order: list[str]) -> dict[str, Any]:
    """The StackReferences of `stack` answered from manifests: those of the stacks it reads that come before it in
    the run order, which it reads as published, as when the whole fabric is planned (a later one reads as not
    deployed yet)."""
    return {s: peer_outputs(fabric, s, stack) for s in sorted(answered & graph.needs(stack))
            if order.index(s) < order.index(stack)}


_handing: dict[str, Any] = {"lock": threading.Lock(), "of": None, "bytes": b""}


def _handed_over() -> bytes:
    """What this process read of the fabric (components.model.load.reading_once), pickled once for every
    evaluation: unpickling the documents costs a fraction of parsing them. Empty when nothing was kept."""
    from clusterfabric.components.model.load import documents_read

    read = documents_read()
    if not read:
        return b""
    with _handing["lock"]:
        state = (id(read), len(read))
        if _handing["of"] != state:
            _handing["of"], _handing["bytes"] = state, pickle.dumps(read, protocol=pickle.HIGHEST_PROTOCOL)
        return _handing["bytes"]


def _evaluate(root: Path, fabric_dir: Path, stack: str, outputs: dict[str, Any], account: str, region: str):
    request = {"root": str(root), "fabric": str(fabric_dir), "stack": stack, "outputs": outputs,
               "account": account, "region": region}
    # The request on the first line (JSON has no line break in it), then what the child need not read again.
    done = subprocess.run([sys.executable, "-m", "clusterfabric.offline.plan"],
                          input=json.dumps(request).encode() + b"\n" + _handed_over(), capture_output=True, cwd=root)
    done = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(errors="replace"),
                                       done.stderr.decode(errors="replace"))
    if done.returncode != 0:
        return {"resources": [], "outputs": {}, "warnings": [],
                "errors": [f"offline evaluation of {stack} failed: {done.stderr.strip().splitlines()[-1:]}"]}
    return json.loads(done.stdout)


def _main() -> None:
    from clusterfabric.components.model.load import reading_once

    request, _, handed = sys.stdin.buffer.read().partition(b"\n")
    with reading_once(pickle.loads(handed) if handed else None):
        print(json.dumps(run_stack(json.loads(request)), default=str))


if __name__ == "__main__":
    _main()
