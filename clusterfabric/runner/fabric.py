"""The fabric as one thing: preview, up, refresh and destroy over its stacks, through the Automation API.

    from clusterfabric import Fabric

    fabric = Fabric("config", parallel=2, on_event=print)
    result = fabric.up()
    for stack in result.stacks:
        print(stack.stack, stack.result, stack.changes)

Stacks run in dependency order (an importer after the stacks it reads, destroy
in reverse), independent ones in parallel. By default a stack renders its
manifests; given `targets`, a stack applies them to that cluster's API server
instead and, after `up`, reads every object back to compare it with what it
declared (see `clusterfabric.local.apiserver` for local control planes). Each stack is created on first use
with its config from fabric.yaml. Before a stack changes, the exports it would
remove and the stacks it would leave without what they read are checked: such
a change is refused, naming the importers, unless `force=True`.

This module schedules and runs the stacks; beside it, one job each: stack_config.py (a stack's config for a
run), events.py (the engine's events translated), recovery.py (advice after an interrupted run); the
safe-deletion queries are the model's (components/model/removal.py).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from pulumi import automation as auto

from components.contract import (CLUSTERLINK_OUTPUT, LATTICE_OUTPUT, PLANNED_PEERS_ENV, ClusterTarget,
                                 lattice_exports, render_directory_of, renders, target_from_config)
from components.model import FabricManifests, Graph, InputError, check_fabric, dependencies, load_fabric, run_order
from components.model.errors import Problem
from components.model.removal import importers, removed_exports
from components.model.peers import clusterlink_exports, read_peers

from ..gitops.drift import Drift, folder_drift
from .events import EngineEvents, Event, EventKind
from ..local.kubeapi import KubeClient
from .processes import leftover_advice, leftover_plugins
from .recovery import checkpoint_path, command_error, pending_advice
from ..gitops.rendered import finish_folder, owner_mark
from .stack_config import prepare
from ..toolchain import PROJECT_DIR, automation_command, check_backend, pulumi_env

Operation = Literal["preview", "up", "refresh", "destroy"]
Result = Literal["succeeded", "failed", "refused", "skipped", "planned offline", "not applicable"]


@dataclass
class StackResult:
    """How one stack's operation went."""

    stack: str
    operation: Operation
    result: Result
    changes: dict[str, int] = field(default_factory=dict)
    """Resource operations: create, update, delete, replace, same."""
    duration: float = 0.0
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    """For previews: each planned step (op, urn, type, diffs)."""
    policy: list[dict[str, str]] = field(default_factory=list)
    """Policy pack results: policy, enforcement level, resource, message."""
    drift: list[str] = field(default_factory=list)
    """Rendered manifests changed by hand (found by preview and refresh; up restores them)."""
    read_back: list[str] = field(default_factory=list)
    """After `up` on an API server: objects whose live state differs from what the stack declared."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """After a successful `up`: the stack's outputs (secrets shown as "[secret]")."""

    @property
    def ok(self) -> bool:
        return self.result in ("succeeded", "planned offline", "not applicable")


@dataclass
class FabricResult:
    operation: Operation
    stacks: list[StackResult]
    policy_packs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """About the run as a whole: plugin processes an earlier, killed run left behind."""

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stacks)

    def stack(self, name: str) -> StackResult:
        return next(s for s in self.stacks if s.stack == name)


class UnknownStackError(KeyError):
    """A stack asked for that the fabric does not have; the message names the fabric's stacks."""

    def __str__(self) -> str:  # a KeyError would show its message quoted
        return str(self.args[0])


class Fabric:
    """A fabric directory and the Pulumi project that deploys it."""

    def __init__(self, fabric_dir: str | Path = "config", *, project_dir: Path = PROJECT_DIR, parallel: int = 1,
                 on_event: Callable[[Event], None] | None = None, force: bool = False,
                 policy_packs: list[str] | None = None, env: dict[str, str] | None = None,
                 targets: dict[str, ClusterTarget | None] | None = None):
        self.project_dir = Path(project_dir).resolve()
        directory = Path(fabric_dir)
        self.fabric_dir = (directory if directory.is_absolute() else self.project_dir / directory).resolve()
        self.parallel = max(1, parallel)
        self.on_event = on_event or (lambda event: None)
        self.force = force
        # The project's own pack (policy/) applies unless packs are named.
        default_pack = [p for p in (self.project_dir / "policy", PROJECT_DIR / "policy") if p.is_dir()][:1]
        self.policy_packs = [str(p) for p in (policy_packs if policy_packs is not None else default_pack)]
        self.env = env if env is not None else pulumi_env(self.project_dir)
        self.targets = dict(targets or {})
        self._lock = threading.Lock()
        self._plugins: set[str] | None = None
        self._cli: auto.PulumiCommand | None = None
        self._cli_lock = threading.Lock()

    # --- the model ----------------------------------------------------------------

    def load(self) -> FabricManifests:
        """The fabric, checked offline; raises InputError with every problem.

        With `force`, problems across clusters (an import of an export being
        removed) do not stop the run: each stack's own program still refuses
        what is wrong with its own inputs.
        """
        return self._checked()[0]

    def _checked(self) -> tuple[FabricManifests, list[Problem]]:
        """The fabric, and (with `force`) the problems left for each stack to refuse on its own: those in a
        cluster's folder. Any other problem, or any at all without `force`, raises InputError."""
        fabric = load_fabric(self.fabric_dir)
        problems, _ = check_fabric(fabric)
        folders = [self.fabric_dir / c.name for c in fabric.spec.clusters]
        if problems and (not self.force or any(_folder_of(p, folders) is None for p in problems)):
            raise InputError(problems)
        return fabric, problems

    def graph(self) -> Graph:
        return dependencies(self.load())

    # --- operations ---------------------------------------------------------------

    def preview(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("preview", stacks)

    def up(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("up", stacks)

    def refresh(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("refresh", stacks)

    def destroy(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("destroy", stacks)

    def _run(self, operation: Operation, stacks: list[str] | None) -> FabricResult:
        check_backend(self.env)
        fabric, problems = self._checked()
        graph = dependencies(fabric)
        order = run_order(fabric, graph=graph)
        selected = [s for s in order if stacks is None or s in stacks]
        unknown = set(stacks or []) - set(order)
        if unknown:
            raise UnknownStackError(f"no stack {', '.join(sorted(unknown))} in the fabric (stacks: {', '.join(order)})")
        if operation == "destroy":
            selected.reverse()
        # What each stack waits for: what it reads (or, to destroy, what reads it) among the selected stacks.
        waits = {s: {d for d in selected if (d in graph.needs(s) if operation != "destroy" else s in graph.needs(d))
                     and selected.index(d) < selected.index(s)} for s in selected}
        left = leftover_plugins(self.project_dir)
        notes = [leftover_advice(left)] if left else []
        for note in notes:
            self._emit("fabric", "diagnostic", f"warning: {note}")
        results: dict[str, StackResult] = {}
        run = _Run(operation, problems)
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            running: dict[Future, str] = {}
            pending = list(selected)
            while pending or running:
                for stack in [s for s in pending if waits[s] <= set(results)]:
                    if len(running) >= self.parallel:
                        break
                    pending.remove(stack)
                    failed = [d for d in waits[stack] if not results[d].ok]
                    if failed:
                        results[stack] = StackResult(stack, operation, "skipped",
                                                     message=f"not run: {', '.join(failed)} did not succeed")
                        self._emit(stack, "finished", results[stack].message)
                        continue
                    running[pool.submit(self._one, fabric, graph, run, stack, set(selected))] = stack
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    stack = running.pop(future)
                    results[stack] = future.result()
        return FabricResult(operation, [results[s] for s in selected], self.policy_packs, notes)

    def rotate_passphrase(self, progress: Callable[[str], None] = lambda line: None) -> list[str]:
        """Re-encrypt every stack of the project's backend under a new random passphrase, all or none
        (see `clusterfabric.runner.passphrase`); returns the stacks rotated."""
        from .passphrase import rotate

        workspace = auto.LocalWorkspace(work_dir=str(self.project_dir), env_vars=self.env,
                                        pulumi_command=self._command())
        stacks = sorted(s.name for s in workspace.list_stacks())
        rotate(self.project_dir, self.env, stacks, progress)
        return stacks

    def pending_operations(self, name: str) -> list[str]:
        """Operations an interrupted run left in the stack's state (`creating Kind name`...), read from the
        checkpoint on a local file backend (other backends: `pulumi stack export`)."""
        import json

        checkpoint = self._checkpoint(name)
        try:
            latest = json.loads(checkpoint.read_text())["checkpoint"].get("latest") or {} if checkpoint else {}
        except (OSError, ValueError, KeyError):
            return []
        return [f"{op['type']} {op['resource']['type']} {op['resource']['urn'].split('::')[-1]}"
                for op in latest.get("pending_operations") or []]

    def clear_pending(self, name: str) -> list[str]:
        """Drop the pending operations from the stack's state; returns them. Safe because the next `up`
        makes again whatever an interrupted create may have made (a file rewritten; an object applied
        server-side, which takes over one that already exists)."""
        stack = self._stack(name)
        state = stack.export_stack()
        pending = self.pending_operations(name)
        if state.deployment and state.deployment.get("pending_operations"):
            state.deployment["pending_operations"] = []
            try:
                stack.import_stack(state)
            except auto.errors.CommandError as err:  # locked, most likely: say by what and what to do
                raise RuntimeError(command_error(err, self._checkpoint(name))) from None
        return pending

    # --- one stack ----------------------------------------------------------------

    def _emit(self, stack: str, kind: EventKind, message: str, **typed: Any) -> None:
        with self._lock:
            self.on_event(Event(stack, kind, message, **typed))

    def _one(self, fabric: FabricManifests, graph: Graph, run: _Run, name: str, selected: set[str]) -> StackResult:
        operation = run.operation
        started = time.monotonic()
        self._emit(name, "started", operation)
        try:
            result = self._operate(fabric, graph, run, name, selected)
        except auto.errors.CommandError as err:
            result = StackResult(name, operation, "failed", message=command_error(err, self._checkpoint(name)))
        except Exception as err:  # a stack's failure is reported in its row, never as a traceback
            result = StackResult(name, operation, "failed", message=f"{type(err).__name__}: {err}")
        pending = self.pending_operations(name)
        if pending:
            advice = pending_advice(name, pending)
            result.warnings.append(advice)
            result.message = "\n".join(m for m in (result.message, advice) if m)
        result.duration = time.monotonic() - started
        self._emit(name, "finished", f"{result.result} {_changes_text(result.changes)}".strip(), result=result)
        return result

    def _operate(self, fabric: FabricManifests, graph: Graph, run: _Run, name: str, selected: set[str]) -> StackResult:
        operation = run.operation
        spec = fabric.spec.cluster(name)
        if spec.dataplane == "lattice" and "aws" not in self._installed_plugins():
            return self._offline(fabric, graph, run, name, "no AWS provider plugin on this machine")
        if operation == "preview":
            # What a stack reads from another only exists once that one is deployed.
            missing = sorted(d for d in graph.hard[name] if not self._published(d, run))
            if missing:
                return self._offline(fabric, graph, run, name, f"{', '.join(missing)} not deployed yet")
        refused = self._input_refusal(fabric, run, name) if operation in ("preview", "up") else None
        if refused:  # before the stack is touched: a refused run writes no config, checkpoint or history
            return StackResult(name, operation, "refused", message=refused)
        # A preview checks an importer against what the stacks previewed before it will publish, not what they did.
        planned = sorted(run.previewed) if operation == "preview" else []
        stack, config = self._prepared(name, {PLANNED_PEERS_ENV: ",".join(planned)} if planned else None)
        outputs = functools.cache(lambda: self._outputs(name, run))  # read once, and only if needed
        drift, unchecked = self._drift(name, stack, config, outputs)
        # Not this backend's files here (a fresh checkout): nothing was changed by hand, but an `up` writes every
        # manifest its state holds, so the folder is whole (what a deploy job publishes for Argo CD or Flux).
        absent, drift = (drift, []) if unchecked else ([], drift)
        if operation == "refresh" and renders(config):
            # No cluster to read: a rendering stack's truth is its files, compared with what it wrote.
            return StackResult(name, operation, "succeeded", drift=[str(d) for d in drift],
                               message=unchecked or "renders its manifests: compared them with the state"
                               + (f"; {len(drift)} changed by hand" if drift else ", no drift"))
        refusal = None if self.force else self._refusal(fabric, graph, operation, name, outputs, selected)
        if refusal:
            return StackResult(name, operation, "refused", message=refusal)
        events = EngineEvents(functools.partial(self._emit, name))
        warnings, errors, steps, policy = events.warnings, events.errors, events.steps, events.policy
        options: dict[str, Any] = {"on_event": events.handle, "color": "never"}
        if self.policy_packs and operation in ("preview", "up"):
            options["policy_packs"] = self.policy_packs
        restore = sorted({d.urn for d in drift + absent if d.urn})
        if operation == "up" and restore:
            options["replace"] = restore  # rewriting the object rewrites its file
        target = target_from_config(config)
        namespaces = _namespaces(stack) if operation == "destroy" and target and not target.controllers else []
        published: dict[str, Any] = {}
        try:
            if operation == "preview":
                changes = dict(stack.preview(**options).change_summary)
            elif operation == "up":
                done = stack.up(**options)
                changes = dict(done.summary.resource_changes or {})
                # What the engine read back after the up (the Automation API does): no second CLI call.
                published = {k: "[secret]" if v.secret else v.value for k, v in done.outputs.items()}
            elif operation == "refresh":
                changes = dict(stack.refresh(**options).summary.resource_changes or {})
            else:
                changes = dict(stack.destroy(**options).summary.resource_changes or {})
        except auto.errors.CommandError as err:
            message = "\n".join(e for e in errors if "program exited with non-zero exit code" not in e)
            if any(p["level"] == "mandatory" for p in policy):
                message = "\n".join(f"[{p['level']}] {p['policy']}: {p['message']}" for p in policy
                                    if p["level"] == "mandatory")
            if "cluster is unreachable" in message and target:
                message += (f"\n{name} applies to the API server of {target.kubeconfig}: start it (a local control "
                            "plane: `clusterfabric apiservers start` or `up --apiservers`) and run again; to render "
                            "this stack instead, run with `--render` while that server is up (its objects move "
                            "into files)")
            return StackResult(name, operation, "failed", message=message or command_error(err),
                               warnings=warnings, steps=steps, policy=policy)
        drifted = [str(d) for d in drift if operation == "preview" or not d.urn]
        result = StackResult(name, operation, "succeeded", changes={k: int(v) for k, v in changes.items()},
                             warnings=warnings + drifted, steps=steps, policy=policy, drift=[str(d) for d in drift],
                             message=_restored_text(drift, absent) if operation == "up" and restore
                             else unchecked if operation == "preview" else "")
        if operation == "preview":
            with run.lock:
                run.previewed.add(name)
        if operation == "up":
            result.outputs = published
        if operation == "up" and renders(config):
            directory = render_directory_of(result.outputs, self.project_dir)  # what this up published
            if directory is not None:
                finish_folder(directory, self._render_owner(name))
        if target and operation == "up":
            self._read_back(stack, target, result)
        elif target and operation == "destroy" and namespaces:
            from ..local.apiserver import finalize_namespaces

            finalized = finalize_namespaces(KubeClient.from_kubeconfig(target.kubeconfig), namespaces)
            result.message = f"finalized namespaces {', '.join(finalized)}" if finalized else ""
        return result

    def _input_refusal(self, fabric: FabricManifests, run: _Run, name: str) -> str | None:
        """What the stack's own program would refuse, found before the engine runs: its own input problems, and
        for a ClusterLink importer, Imports of what its peers do not publish (deployed, or planned in this run)."""
        own = [p for p in run.problems if _folder_of(p, [self.fabric_dir / name])]
        if own:
            return "invalid fabric input:\n" + "\n".join(map(str, own))
        if fabric.spec.cluster(name).dataplane != "clusterlink":
            return None
        planned = frozenset(run.previewed) if run.operation == "preview" else frozenset()
        published = {p: (self._deployed_outputs(p, run) or {}).get(CLUSTERLINK_OUTPUT)
                     for p in fabric.import_peers(name) if p not in planned}
        peers = read_peers(fabric, name, published, planned)
        return peers.refusal() if peers.problems else None

    def _read_back(self, stack: auto.Stack, target: ClusterTarget, result: StackResult) -> None:
        """Compare every object the stack declared with the API server's; a difference fails the stack."""
        from ..local.readback import read_back

        compared, differences = read_back(KubeClient.from_kubeconfig(target.kubeconfig),
                                          stack.export_stack().deployment or {})
        result.read_back = [str(d) for d in differences]
        if differences:
            result.result = "failed"
            result.message = f"{len(differences)} differences between declared and live objects:\n" + "\n".join(
                result.read_back)
        else:
            result.message = f"read back {compared} objects from the API server: as declared"
        self._emit(stack.name, "read back", result.message.splitlines()[0])

    def _drift(self, name: str, stack: auto.Stack, config: dict[str, str],
               outputs: Callable[[], dict[str, Any]]) -> tuple[list[Drift], str]:
        """Differences between the stack's state and its rendered manifests here, and why they are not hand
        changes ("" when they are): see `clusterfabric.gitops.rendered.folder_drift`."""
        directory = render_directory_of(outputs(), self.project_dir) if renders(config) else None
        if directory is None:
            return [], ""
        return folder_drift(stack.export_stack().deployment or {}, directory, self._render_owner(name))

    def _render_owner(self, name: str) -> str:
        return owner_mark(self.env.get("PULUMI_BACKEND_URL", ""), name)

    def _checkpoint(self, name: str) -> Path | None:
        """The stack's checkpoint file, on a local file backend."""
        return checkpoint_path(self.env, name)

    def _command(self) -> auto.PulumiCommand:
        """The Pulumi CLI, found once (making one runs `pulumi version`)."""
        with self._cli_lock:
            if self._cli is None:
                self._cli = automation_command()
            return self._cli

    def outputs(self, name: str) -> dict[str, Any]:
        """Stack `name`'s outputs, as its last `up` published them (secrets shown as "[secret]")."""
        return self._read_outputs(name)

    def _read_outputs(self, name: str) -> dict[str, Any]:
        """The stack's outputs, secrets shown as "[secret]": one CLI call (`Stack.outputs()` makes a second one,
        to show the secrets, which nothing here reads). Raises CommandError when there is no such stack."""
        done = self._command().run(["stack", "output", "--json", "--stack", name], str(self.project_dir), self.env)
        return json.loads(done.stdout)

    def _outputs(self, name: str, run: _Run) -> dict[str, Any]:
        """The stack's outputs; in a preview read once for the whole run (a preview changes no stack's outputs)."""
        if run.operation != "preview":
            return self._read_outputs(name)
        with run.lock:
            outputs = run.outputs.get(name)
        if outputs is None:
            outputs = self._read_outputs(name)
            with run.lock:
                run.outputs[name] = outputs
        return outputs

    def _published(self, name: str, run: _Run) -> bool:
        return bool(self._deployed_outputs(name, run))

    def _deployed_outputs(self, name: str, run: _Run) -> dict[str, Any] | None:
        """The stack's outputs, None when there is no such stack yet. Any other failure to read it (no backend, no
        credentials) is raised: taking it for "not deployed" would pass a mock evaluation off as a preview."""
        try:
            return self._outputs(name, run)
        except auto.errors.CommandError as err:
            if "no stack named" in str(err):
                return None
            raise

    def _offline(self, fabric: FabricManifests, graph: Graph, run: _Run, name: str, reason: str) -> StackResult:
        operation = run.operation
        if operation not in ("preview", "up"):
            return StackResult(name, operation, "not applicable", message=reason)
        from ..offline.plan import lattice_api, plan

        def evaluated(stack: str, outputs: dict[str, Any]) -> None:
            with run.lock:
                run.offline[stack] = outputs

        with run.lock:
            known = dict(run.offline)
            if run.lattice is None:
                run.lattice = lattice_api(fabric)
        # The stacks evaluated for an earlier stack of this run are not evaluated again; what they created in the
        # fake Lattice API is there.
        entry = plan(self.project_dir, self.fabric_dir, [name], known=known, on_evaluated=evaluated,
                     fabric=fabric, graph=graph, lattice=run.lattice)["stacks"][name]
        if entry.get("errors"):
            return StackResult(name, operation, "failed", message="\n".join(entry["errors"]))
        return StackResult(name, operation, "planned offline", changes={"create": len(entry["resources"])},
                           warnings=entry["warnings"],
                           message=f"{reason}: evaluated under mocks instead")

    def _installed_plugins(self) -> set[str]:
        if self._plugins is None:
            workspace = auto.LocalWorkspace(work_dir=str(self.project_dir), env_vars=self.env,
                                            pulumi_command=self._command())
            self._plugins = {p.name for p in workspace.list_plugins()}
        return self._plugins

    def _stack(self, name: str) -> auto.Stack:
        """The stack, its config brought in line with this run."""
        return self._prepared(name)[0]

    def _prepared(self, name: str, env: dict[str, str] | None = None) -> tuple[auto.Stack, dict[str, str]]:
        """The stack with its config brought in line with this run (fabric directory, target), and that config.
        `env`: variables for this stack's run only."""
        stack = auto.create_or_select_stack(
            name, work_dir=str(self.project_dir),
            opts=auto.LocalWorkspaceOptions(env_vars={**self.env, **(env or {})}, pulumi_command=self._command()))
        return stack, prepare(stack, self.project_dir, self.fabric_dir, self.targets)

    # --- safe deletion ------------------------------------------------------------

    def _refusal(self, fabric: FabricManifests, graph: Graph, operation: Operation, name: str,
                 outputs: Callable[[], dict[str, Any]], selected: set[str]) -> str | None:
        if operation == "destroy":
            readers = sorted(s for s in graph.dependents({name}) - {name} if s not in selected)
            if readers:
                return (f"refusing to destroy {name!r}: {', '.join(readers)} still read it (imports, certificates or "
                        "service networks); destroy them too, change them first, or use --force")
            return None
        if operation not in ("preview", "up"):
            return None
        published = outputs()
        if fabric.spec.cluster(name).dataplane == "clusterlink":
            removed = removed_exports(fabric, name, clusterlink_exports(published.get(CLUSTERLINK_OUTPUT)))
        else:
            removed = removed_exports(fabric, name, lattice_exports(name, published.get(LATTICE_OUTPUT)))
        users_of = importers(fabric, name, removed)
        if not users_of:
            return None
        lines = [f"refusing to remove what {name!r} exports while others import it (use --force to do it anyway):"]
        lines += [f"  {export}: imported by {', '.join(users)}" for export, users in sorted(users_of.items())]
        return "\n".join(lines)


@dataclass
class _Run:
    """What one run's stacks share, from their threads: the outputs a preview read, and the offline outputs of the
    stacks evaluated under mocks (each evaluated once per run)."""

    operation: Operation
    problems: list[Problem] = field(default_factory=list)
    """With `force`: the input problems in the clusters' folders, each refusing its own stack."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    offline: dict[str, dict[str, Any]] = field(default_factory=dict)
    lattice: Any = None
    """The fake Lattice API the run's offline stacks create in, one after the other (clusterfabric.offline.lattice_fake)."""
    previewed: set[str] = field(default_factory=set)
    """Stacks whose preview succeeded in this run: what they will publish is what their manifests say."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _restored_text(drift: list[Drift], absent: list[Drift]) -> str:
    if absent:
        return f"wrote the {len(absent)} manifests its state holds that were not here (rendered elsewhere before)"
    return f"restored {len(drift)} hand-changed manifests"


def _folder_of(problem: Problem, folders: list[Path]) -> Path | None:
    """The cluster folder among `folders` holding the problem's file, if any."""
    path = Path(problem.file).resolve()
    return next((f for f in folders if path.is_relative_to(f.resolve())), None)


def _namespaces(stack: auto.Stack) -> list[str]:
    """The namespaces a stack declared (to finalize after destroy, where no namespace controller runs)."""
    resources = (stack.export_stack().deployment or {}).get("resources", [])
    return sorted(r["inputs"]["metadata"]["name"] for r in resources
                  if r.get("type") == "kubernetes:core/v1:Namespace" and r.get("inputs", {}).get("metadata"))


def _changes_text(changes: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in changes.items() if v and k != "same")
