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

This module schedules and runs the stacks; beside it, one job each: results.py (how a run went),
refusals.py (why a stack's operation must not run: its inputs, safe deletion), stack_config.py (a stack's config
for a run), events.py (the engine's events translated), recovery.py (advice after an interrupted run), rotation.py
(the certificates' rotation, phase by phase).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping, Sequence

from pulumi import automation as auto

from clusterfabric.components.contract import (CERTIFICATE_EXPIRY_OUTPUT, IMPORTED_EXPORTS_OUTPUT, PLANNED_PEERS_ENV,
                                               ClusterTarget,
                                               default_fabric_dir, render_directory_of, renders, target_from_config)
from clusterfabric.components.model import FabricManifests, Graph, InputError, check_fabric, dependencies, load_fabric, run_order
from clusterfabric.components.model.certificates import Expiry, expiring
from clusterfabric.components.model.errors import Problem
from clusterfabric.components.model.graph import topological
from clusterfabric.components.model.removal import export_id
from clusterfabric.components.model.removal import imported_exports as imported_exports_of_run

from ..gitops.drift import Drift, folder_drift
from ..gitops.rendered import finish_folder, owner_mark
from ..local.kubeapi import KubeClient
from ..toolchain import PROJECT_DIR, automation_command, check_backend, project_plugins, pulumi_env
from .events import EngineEvents, Event, EventKind
from .locks import DEFAULT_LOCK_TIMEOUT, LockWait, StackLocked
from .processes import leftover_advice, leftover_plugins
from .project import project_name, project_of
from .recovery import checkpoint_path, command_error, pending_advice, pending_in, pending_operations
from .refusals import (deployed_import_refusal, destroy_refusal, emptied_refusal, input_refusal, problems_by_stack,
                       removal_refusal, removed)
from .results import FabricResult, Operation, StackResult
from .stack_config import prepare

if TYPE_CHECKING:
    from .rotation import RotationResult


class UnknownStackError(KeyError):
    """A stack asked for that the fabric does not have; the message names the fabric's stacks."""

    def __str__(self) -> str:  # a KeyError would show its message quoted
        return str(self.args[0])


class Fabric:
    """A fabric directory and the Pulumi project that deploys it."""

    def __init__(self, fabric_dir: str | Path | None = None, *, project_dir: Path | None = None, parallel: int = 1,
                 on_event: Callable[[Event], None] | None = None, force: bool = False,
                 policy_packs: list[str] | None = None, env: dict[str, str] | None = None,
                 targets: dict[str, ClusterTarget | None] | None = None, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        """`fabric_dir`: relative to `project_dir` when that is given, else to the current directory; by default
        the one there (default_fabric_dir: itself when it holds a fabric.yaml, else `config`). `project_dir`: the
        Pulumi project whose stacks deploy the fabric; by default the fabric's own (project.py: the fabric
        directory, or the parent of a folder named `config`), NoProjectError when it has none. `lock_timeout`:
        seconds a stack's operation waits while another run holds the stack's lock (locks.py) before it is
        refused."""
        base = Path(project_dir) if project_dir is not None else Path.cwd()
        directory = Path(fabric_dir) if fabric_dir is not None else default_fabric_dir(base)
        if project_dir is None:
            self.fabric_dir = directory.resolve()
            self.project_dir = project_of(self.fabric_dir)
        else:
            self.project_dir = Path(project_dir).resolve()
            self.fabric_dir = (directory if directory.is_absolute() else self.project_dir / directory).resolve()
        self.parallel = max(1, parallel)
        self.on_event = on_event or (lambda event: None)
        self.force = force
        # The project's own pack (policy/) applies unless packs are named.
        default_pack = [p for p in (self.project_dir / "policy", PROJECT_DIR / "policy") if p.is_dir()][:1]
        self.policy_packs = [str(p) for p in (policy_packs if policy_packs is not None else default_pack)]
        self.env = env if env is not None else pulumi_env(self.project_dir)
        self.targets = dict(targets or {})
        self.lock_wait = LockWait(lock_timeout)
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

    def _checked(self) -> tuple[FabricManifests, dict[str, list[Problem]]]:
        """The fabric, and (with `force`) the problems left for each stack to refuse on its own, by stack: those in
        a cluster's folder. Any other problem, or any at all without `force`, raises InputError."""
        fabric = load_fabric(self.fabric_dir)
        problems, _ = check_fabric(fabric)
        own = problems_by_stack(problems, {c.name: self.fabric_dir / c.name for c in fabric.spec.clusters})
        if problems and (not self.force or own is None):
            raise InputError(problems)
        return fabric, own or {}

    def graph(self) -> Graph:
        return dependencies(self.load())

    # --- operations ---------------------------------------------------------------

    def preview(self, stacks: list[str] | None = None, *, refresh: bool = False) -> FabricResult:
        """`refresh`: read each stack's resources first, as `pulumi preview --refresh` does, so the changes include
        what drifted outside Pulumi; the refreshed state is the preview's alone: nothing is written back.
        The certificates it warns of are those of the stacks previewed and of the fabric CA's owner, whose outputs
        date the fabric CA and every peer's certificate (of every ClusterLink stack, when all are previewed)."""
        return self._run("preview", stacks, refresh=refresh)

    def up(self, stacks: list[str] | None = None, *, stack_env: dict[str, dict[str, str]] | None = None) -> FabricResult:
        """`stack_env`: variables for one stack's run only, by stack (a certificate rotation asks the CA owner for
        its next state through one)."""
        return self._run("up", stacks, stack_env)

    def refresh(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("refresh", stacks)

    def destroy(self, stacks: list[str] | None = None) -> FabricResult:
        return self._run("destroy", stacks)

    def destroy_removed(self) -> FabricResult:
        """Destroy the stacks of the fabric's project whose cluster is no longer in fabric.yaml, and remove them.
        No program runs for them (a destroy works from the state alone; their folder is gone). The fabric must
        validate, so no cluster in it imports from a removed one; a removed stack is still refused while a stack
        of the fabric has not been brought up since it stopped reading it (its state holds a StackReference to
        it). Removed stacks that read each other go readers first."""
        check_backend(self.env)
        clusters = {c.name for c in self.load().spec.clusters}
        reads = {s: self._referenced(s) for s in self._backend_stacks()}
        removed = _readers_first({s: r for s, r in reads.items() if s not in clusters})
        readers = Graph({c: reads.get(c, set()) for c in clusters}, {c: set() for c in clusters})
        refusals = {s: None if self.force else destroy_refusal(readers, s, frozenset()) for s in removed}
        return FabricResult("destroy", [self._destroy_removed_stack(s, refusals[s]) for s in removed],
                            self.policy_packs)

    def _destroy_removed_stack(self, name: str, refusal: str | None) -> StackResult:
        """Destroy one removed stack from its state alone and remove it; its rendered folder is finished (an empty
        kustomization: what a GitOps tool prunes from)."""
        if refusal:
            return StackResult(name, "destroy", "refused", message=refusal)
        self._emit(name, "started", "destroy (removed from fabric.yaml)")
        stack = auto.select_stack(name, work_dir=str(self.project_dir), opts=self._options())
        directory = self._render_folder(self.deployed_outputs(name) or {})
        events, options = self._engine(name)
        try:
            changes = self._waiting(name, lambda: stack.destroy(**options).summary.resource_changes or {})
            self._waiting(name, lambda: stack.workspace.remove_stack(name))
        except StackLocked as err:
            result = StackResult(name, "destroy", "refused", message=str(err))
        except auto.errors.CommandError as err:
            result = StackResult(name, "destroy", "failed", message=events.failure() or command_error(err))
        else:
            result = StackResult(name, "destroy", "succeeded", changes=dict(changes), warnings=events.warnings,
                                 message="removed from fabric.yaml: destroyed, and the stack removed")
            if directory is not None:
                finish_folder(directory, self._render_owner(name))
        self._emit(name, "finished", result.result, result=result)
        return result

    def _backend_stacks(self) -> list[str]:
        """Every stack of the fabric's project in its backend."""
        workspace = auto.LocalWorkspace(work_dir=str(self.project_dir), env_vars=self.env,
                                        pulumi_command=self._command())
        return sorted(s.name for s in workspace.list_stacks())

    def _referenced(self, name: str) -> set[str]:
        """The stacks of this project that stack `name`'s state reads (its StackReferences)."""
        stack = auto.select_stack(name, work_dir=str(self.project_dir), opts=self._options())
        names = [(r.get("inputs") or {}).get("name", "").split("/") for r in (
            stack.export_stack().deployment or {}).get("resources", []) if r.get("type") == "pulumi:pulumi:StackReference"]
        return {n[-1] for n in names if len(n) > 1 and n[-2] == project_name(self.project_dir)}

    def _options(self) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(env_vars=self.env, pulumi_command=self._command())

    def _run(self, operation: Operation, stacks: list[str] | None,
             stack_env: dict[str, dict[str, str]] | None = None, refresh: bool = False) -> FabricResult:
        check_backend(self.env)
        fabric, problems = self._checked()
        graph = dependencies(fabric)
        order = _selected(run_order(fabric, graph=graph), stacks)
        if operation == "destroy":
            order.reverse()
        notes = self._leftover_notes()
        run = _Run(operation, fabric, graph, frozenset(order), problems, stack_env=stack_env or {}, refresh=refresh)
        first = self._importers_first(run, order) if operation in ("preview", "up") else {}
        order, waits = _schedule(graph, order, operation, first)
        results = self._scheduled(run, order, waits)
        # A stack whose preview failed has said why in its result; its outputs may not even be readable (a
        # checkpoint a killed run cut short), so its certificates are not looked at again.
        failed = {s for s, result in results.items() if not result.ok}
        # The certificates of the stacks previewed, and the CA owner's, which dates the fabric CA and every peer's
        # certificate: reading every ClusterLink stack's outputs (a CLI call each) made a pull request's preview of
        # one cluster grow with the fabric. A preview of the whole fabric reads them all.
        read = set(order) | {fabric.ca_owner()} if stacks else None
        expiring = self._expiring(run, skip=failed, only=read) if operation == "preview" else []
        return FabricResult(operation, [results[s] for s in order], self.policy_packs, notes, expiring)

    def _scheduled(self, run: _Run, order: list[str], waits: dict[str, set[str]]) -> dict[str, StackResult]:
        """Each stack's result: run in `order` once the stacks it waits for are done, up to `parallel` at once;
        skipped when one of those did not succeed."""
        results: dict[str, StackResult] = {}
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            running: dict[Future, str] = {}
            pending = list(order)
            while pending or running:
                for stack in [s for s in pending if waits[s] <= set(results)]:
                    if len(running) >= self.parallel:
                        break
                    pending.remove(stack)
                    failed = [d for d in waits[stack] if not results[d].ok]
                    if failed:
                        results[stack] = StackResult(stack, run.operation, "skipped",
                                                     message=f"not run: {', '.join(failed)} did not succeed")
                        self._emit(stack, "finished", results[stack].message)
                        continue
                    running[pool.submit(self._one, run, stack)] = stack
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    stack = running.pop(future)
                    results[stack] = future.result()
        return results

    def _leftover_notes(self) -> list[str]:
        """What plugin processes an earlier, killed run left behind: said at once, and noted in the result."""
        left = leftover_plugins(self.project_dir)
        notes = [leftover_advice(left)] if left else []
        for note in notes:
            self._emit("fabric", "diagnostic", f"warning: {note}")
        return notes

    def certificate_expiry(self) -> list[Expiry]:
        """The deployed ClusterLink certificates that expire within fabric.yaml's warning window, or have expired,
        as the stacks published their dates (`certificateExpiry`)."""
        fabric = self.load()
        return self._expiring(_Run("preview", fabric, dependencies(fabric), frozenset(), {}))

    def _expiring(self, run: _Run, skip: Collection[str] = (), only: Collection[str] | None = None) -> list[Expiry]:
        """The expiring certificates of the ClusterLink stacks (`only` these, when given), but `skip`."""
        settings, now = run.fabric.spec.certificates, datetime.now(timezone.utc)
        found = []
        for spec, _ in run.fabric.clusterlink_clusters():
            if spec.name in skip or (only is not None and spec.name not in only):
                continue
            published = (self.deployed_outputs(spec.name, run) or {}).get(CERTIFICATE_EXPIRY_OUTPUT) or {}
            found += expiring(spec.name, published, settings.expiryWarningDays, now)
        return found

    def rotate_certificates(self, *, peer: str | None = None, fabric_ca: bool = False,
                            progress: Callable[[str], None] = lambda line: None) -> RotationResult:
        """Renew `peer`'s certificate, or roll the fabric CA over (resuming an interrupted rollover): one `up` of
        the ClusterLink stacks per phase, in dependency order (see `clusterfabric.runner.rotation`)."""
        from .rotation import rotate

        return rotate(self, peer=peer, fabric_ca=fabric_ca, progress=progress)

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
        return pending_operations(self._checkpoint(name))

    def clear_pending(self, name: str) -> list[str]:
        """Drop the pending operations from the stack's state; returns them. Safe because the next `up`
        makes again whatever an interrupted create may have made (a file rewritten; an object applied
        server-side, which takes over one that already exists)."""
        stack = self._stack(name)
        state = stack.export_stack()
        pending = pending_in(state.deployment or {})  # the state's own: a backend other than files has no checkpoint
        if pending:
            state.deployment["pending_operations"] = []
            try:
                self._waiting(name, lambda: stack.import_stack(state))
            except StackLocked as err:
                raise RuntimeError(str(err)) from None
            except auto.errors.CommandError as err:
                raise RuntimeError(command_error(err, self._checkpoint(name))) from None
        return pending

    # --- one stack ----------------------------------------------------------------

    def _waiting(self, name: str, call: Callable[[], Any]) -> Any:
        """`call()`, waiting (within `lock_timeout`) while another run holds stack `name`'s lock, each pause said
        as a `waiting` event; StackLocked, naming the holder, when the wait's bound passes."""
        return self.lock_wait.run(name, call, on_wait=lambda line: self._emit(name, "waiting", line))

    def _emit(self, stack: str, kind: EventKind, message: str, **typed: Any) -> None:
        with self._lock:
            self.on_event(Event(stack, kind, message, **typed))

    def _one(self, run: _Run, name: str) -> StackResult:
        """The run's operation on one stack. Whatever happens, a result: a refusal, a failure (never a traceback),
        and advice on the operations an interrupted run left pending."""
        operate = {"preview": self._preview_stack, "up": self._up_stack, "refresh": self._refresh_stack,
                   "destroy": self._destroy_stack}[run.operation]
        started = time.monotonic()
        self._emit(name, "started", run.operation)
        try:
            # Another run holding the stack's lock: wait, then the whole operation again, on the state it left.
            result = self._waiting(name, lambda: operate(run, name))
        except (_Refused, StackLocked) as refused:
            result = StackResult(name, run.operation, "refused", message=str(refused))
        except auto.errors.CommandError as err:
            result = StackResult(name, run.operation, "failed", message=command_error(err, self._checkpoint(name)))
        except Exception as err:  # a stack's failure is reported in its row, never as a traceback
            result = StackResult(name, run.operation, "failed", message=f"{type(err).__name__}: {err}")
        pending = self.pending_operations(name)
        if pending:
            advice = pending_advice(name, pending)
            result.warnings.append(advice)
            result.message = "\n".join(m for m in (result.message, advice) if m)
        result.duration = time.monotonic() - started
        self._emit(name, "finished", f"{result.result} {_changes_text(result.changes)}".strip(), result=result)
        return result

    def _preview_stack(self, run: _Run, name: str) -> StackResult:
        reason = self._why_offline(run, name) or self._unpublished_reads(run, name)
        if reason:
            return self._offline(run, name, reason)
        # An importer is checked against what the stacks previewed before it will publish, not what they did.
        ready = self._ready_to_change(run, name, planned=run.planned())
        events, options = self._engine(name, policies=True)
        if run.refresh:
            options["refresh"] = True
        try:
            changes = ready.stack.preview(**options).change_summary
        except auto.errors.CommandError as err:
            return _engine_failed(ready, "preview", err, events)
        with run.lock:
            run.previewed.add(name)
        return _succeeded(ready, "preview", changes, events, warned=ready.drift, message=ready.unchecked)

    def _up_stack(self, run: _Run, name: str) -> StackResult:
        reason = self._why_offline(run, name)
        if reason:
            return self._offline(run, name, reason)
        ready = self._ready_to_change(run, name)
        # A stack moving from files to a cluster empties its render folder: finished below, as a GitOps tool reads it.
        left = self._render_folder(ready.outputs()) if not renders(ready.config) else None
        events, options = self._engine(name, policies=True)
        restore = sorted({d.urn for d in ready.drift + ready.absent if d.urn})
        if restore:
            options["replace"] = restore  # rewriting the object rewrites its file
        try:
            done = ready.stack.up(**options)
        except auto.errors.CommandError as err:
            return _engine_failed(ready, "up", err, events)
        result = _succeeded(ready, "up", done.summary.resource_changes or {}, events, warned=_not_restored(ready.drift),
                            message=_restored_text(ready.drift, ready.absent) if restore else "")
        # What the engine read back after the up (the Automation API does): no second CLI call.
        result.outputs = {k: "[secret]" if v.secret else v.value for k, v in done.outputs.items()}
        directory = self._render_folder(result.outputs) if renders(ready.config) else left
        if directory is not None:
            finish_folder(directory, self._render_owner(name))
        if ready.target:
            self._read_back(ready.stack, ready.target, result)
        return result

    def _refresh_stack(self, run: _Run, name: str) -> StackResult:
        reason = self._why_offline(run, name)
        if reason:
            return StackResult(name, "refresh", "not applicable", message=reason)
        ready = self._ready(run, name)
        if renders(ready.config):
            # No cluster to read: a rendering stack's truth is its files, compared with what it wrote.
            return StackResult(name, "refresh", "succeeded", drift=[str(d) for d in ready.drift],
                               message=ready.unchecked or "renders its manifests: compared them with the state"
                               + (f"; {len(ready.drift)} changed by hand" if ready.drift else ", no drift"))
        events, options = self._engine(name)
        try:
            changes = ready.stack.refresh(**options).summary.resource_changes or {}
        except auto.errors.CommandError as err:
            return _engine_failed(ready, "refresh", err, events)
        return _succeeded(ready, "refresh", changes, events)

    def _destroy_stack(self, run: _Run, name: str) -> StackResult:
        reason = self._why_offline(run, name)
        if reason:
            return StackResult(name, "destroy", "not applicable", message=reason)
        ready = self._ready(run, name)
        if not self.force:
            _refuse(destroy_refusal(run.graph, name, run.selected))
        target = ready.target
        # No namespace controller runs there to finish the namespaces it empties: read them while the state has them.
        namespaces = _namespaces(ready.stack) if target and not target.controllers else []
        directory = self._render_folder(ready.outputs()) if renders(ready.config) else None
        events, options = self._engine(name)
        try:
            changes = ready.stack.destroy(**options).summary.resource_changes or {}
        except auto.errors.CommandError as err:
            return _engine_failed(ready, "destroy", err, events)
        result = _succeeded(ready, "destroy", changes, events, warned=_not_restored(ready.drift))
        if directory is not None:  # its kustomization names no deleted file, no CRD stays for objects gone
            finish_folder(directory, self._render_owner(name))
        if target and namespaces:
            from ..local.apiserver import finalize_namespaces

            finalized = finalize_namespaces(KubeClient.from_kubeconfig(target.kubeconfig), namespaces)
            result.message = f"finalized namespaces {', '.join(finalized)}" if finalized else ""
        return result

    def _render_folder(self, outputs: Mapping[str, Any]) -> Path | None:
        """Where a stack with these outputs rendered its manifests (None: it applied them to a cluster)."""
        return render_directory_of(outputs, self.project_dir)

    def _offline(self, run: _Run, name: str, reason: str) -> StackResult:
        """A preview or up of a stack that cannot run on the engine here (`reason`): evaluated under mocks instead.
        The stacks evaluated for an earlier stack of this run are not evaluated again; what they created in the
        fake Lattice API is there."""
        from ..offline.plan import lattice_api, plan

        def evaluated(stack: str, outputs: dict[str, Any]) -> None:
            with run.lock:
                run.offline[stack] = outputs

        with run.lock:
            known = dict(run.offline)
            if run.lattice is None:
                run.lattice = lattice_api(run.fabric)
        entry = plan(self.project_dir, self.fabric_dir, [name], known=known, on_evaluated=evaluated,
                     fabric=run.fabric, graph=run.graph, lattice=run.lattice)["stacks"][name]
        if entry.get("errors"):
            return StackResult(name, run.operation, "failed", message="\n".join(entry["errors"]))
        return StackResult(name, run.operation, "planned offline", changes={"create": len(entry["resources"])},
                           warnings=entry["warnings"],
                           message=f"{reason}: evaluated under mocks instead")

    # --- the steps the operations share -------------------------------------------

    def _why_offline(self, run: _Run, name: str) -> str | None:
        """Why the stack cannot run on the engine here, if it cannot: a Lattice stack without the AWS plugin."""
        if run.fabric.spec.cluster(name).dataplane == "lattice" and "aws" not in self._installed_plugins():
            return "no AWS provider plugin on this machine"
        return None

    def _unpublished_reads(self, run: _Run, name: str) -> str | None:
        """For a preview: the stacks it reads that are not deployed yet (what it reads exists only once they are).
        A Lattice stack reads those previewed before it in the run as they will publish, their ARNs and ids not
        known yet (components/stack.py), as a preview shows what is still to be created."""
        planned = run.planned() if run.fabric.spec.cluster(name).dataplane == "lattice" else frozenset()
        missing = sorted(d for d in run.graph.hard[name] - planned if not self.deployed_outputs(d, run))
        return f"{', '.join(missing)} not deployed yet" if missing else None

    def _ready_to_change(self, run: _Run, name: str, planned: frozenset[str] = frozenset()) -> _Ready:
        """The stack ready for a preview or up, unless refused (raises _Refused) before it is touched (a refused run
        writes no config, checkpoint or history): for its own inputs, then, unless forced, for removing everything
        it shares or exports others import. `planned`: the stacks previewed in this run, read as what they will
        publish."""
        _refuse(input_refusal(run.fabric, name, run.problems.get(name, []),
                              lambda peer: self.deployed_outputs(peer, run), planned))
        env = {**run.stack_env.get(name, {}), **({PLANNED_PEERS_ENV: ",".join(sorted(planned))} if planned else {})}
        # Read once: before the run (its own outputs change only with its own run), else now.
        published = functools.cache(lambda: (run.before[name] if name in run.before
                                             else self.deployed_outputs(name, run)) or {})
        if not self.force:  # before the stack is touched, as its input's refusal
            _refuse(emptied_refusal(run.fabric, name, published()) or removal_refusal(run.fabric, name, published())
                    or self._deployed_import_refusal(run, name, published()))
        return self._ready(run, name, env or None, published)

    # --- removals: importers first ----------------------------------------------------

    def _importers_first(self, run: _Run, order: list[str]) -> dict[str, set[str]]:
        """Stack -> the stacks of this run to go before it although they read it: it removes exports they import
        as deployed and their manifests no longer import (the reverse of the creation order), so at no moment
        does a deployed Import name a missing export. Reads the outputs of the run's stacks once."""
        first: dict[str, set[str]] = {}
        for exporter in order:
            try:
                run.before[exporter] = self.deployed_outputs(exporter, run)
                gone = [export_id(e) for e in removed(run.fabric, exporter, run.before[exporter] or {})]
                imports = self._deployed_imports(run, exporter, among=order) if gone else {}
            except auto.errors.CommandError:
                continue  # a stack whose state cannot be read: its own run says why; the usual order for it
            planned = imported_exports_of_run(run.fabric, exporter)
            for stack, ids in imports.items():
                if set(ids) & set(gone) and not set(planned.get(stack, ())) & set(gone):
                    first.setdefault(exporter, set()).add(stack)
        return first

    def _deployed_imports(self, run: _Run, exporter: str, among: Sequence[str] | None = None) -> dict[str, list[str]]:
        """Stack -> the ids of `exporter`'s exports it imports: as its last `up` published them, as its manifests
        say for a stack previewed earlier in this run (or deployed by a release that published none)."""
        found = {}
        for stack in among if among is not None else [c.name for c in run.fabric.spec.clusters]:
            if stack == exporter:
                continue
            outputs = None if stack in run.planned() else self.deployed_outputs(stack, run)
            published = (outputs or {}).get(IMPORTED_EXPORTS_OUTPUT)
            found[stack] = (imported_exports_of_run(run.fabric, stack) if published is None or outputs is None
                            else published).get(exporter, [])
        return found

    def _deployed_import_refusal(self, run: _Run, name: str, published: Mapping[str, Any]) -> str | None:
        gone = [export_id(e) for e in removed(run.fabric, name, published)]
        return deployed_import_refusal(name, gone, self._deployed_imports(run, name)) if gone else None

    def _ready(self, run: _Run, name: str, env: dict[str, str] | None = None,
               outputs: Callable[[], dict[str, Any]] | None = None) -> _Ready:
        """The stack, its config brought in line with this run, and its rendered manifests compared with its
        state. `env`: variables for this stack's run only; `outputs`: its outputs, when read already."""
        stack, config = self._prepared(name, env)
        outputs = outputs or functools.cache(lambda: self._outputs(name, run))  # read once, and only if needed
        drift, unchecked = self._drift(name, stack, config, outputs)
        # Not this backend's files here (a fresh checkout): nothing was changed by hand, but an `up` writes every
        # manifest its state holds, so the folder is whole (what a deploy job publishes for Argo CD or Flux).
        absent, drift = (drift, []) if unchecked else ([], drift)
        return _Ready(name, stack, config, outputs, drift, absent, unchecked)

    def _drift(self, name: str, stack: auto.Stack, config: dict[str, str],
               outputs: Callable[[], dict[str, Any]]) -> tuple[list[Drift], str]:
        """Differences between the stack's state and its rendered manifests here, and why they are not hand
        changes ("" when they are): see `clusterfabric.gitops.drift.folder_drift`."""
        directory = self._render_folder(outputs()) if renders(config) else None
        if directory is None:
            return [], ""
        return folder_drift(stack.export_stack().deployment or {}, directory, self._render_owner(name))

    def _engine(self, name: str, *, policies: bool = False) -> tuple[EngineEvents, dict[str, Any]]:
        """For an engine run of the stack: its events, noted as they come and passed on as progress, and its options
        (no colour; with `policies`, for a preview or up, the policy packs)."""
        events = EngineEvents(functools.partial(self._emit, name))
        options: dict[str, Any] = {"on_event": events.handle, "color": "never"}
        if policies and self.policy_packs:
            options["policy_packs"] = self.policy_packs
        return events, options

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

    def _render_owner(self, name: str) -> str:
        return owner_mark(self.env.get("PULUMI_BACKEND_URL", ""), name)

    # --- the stacks' state ----------------------------------------------------------

    def outputs(self, name: str) -> dict[str, Any]:
        """Stack `name`'s outputs, as its last `up` published them (secrets shown as "[secret]"): one CLI call
        (`Stack.outputs()` makes a second one, to show the secrets, which nothing here reads). Raises CommandError
        when there is no such stack."""
        done = self._command().run(["stack", "output", "--json", "--stack", name], str(self.project_dir), self.env)
        return json.loads(done.stdout)

    def _outputs(self, name: str, run: _Run) -> dict[str, Any]:
        """The stack's outputs; in a preview read once for the whole run (a preview changes no stack's outputs)."""
        if run.operation != "preview":
            return self.outputs(name)
        with run.lock:
            outputs = run.outputs.get(name)
        if outputs is None:
            outputs = self.outputs(name)
            with run.lock:
                run.outputs[name] = outputs
        return outputs

    def deployed_outputs(self, name: str, run: _Run | None = None) -> dict[str, Any] | None:
        """The stack's outputs (in a `run`, as that run reads them), None when there is no such stack yet. Any other
        failure to read it (no backend, no credentials) is raised: taking it for "not deployed" would pass a mock
        evaluation off as a preview."""
        try:
            return self._outputs(name, run) if run else self.outputs(name)
        except auto.errors.CommandError as err:
            if "no stack named" in str(err):
                return None
            raise

    def _installed_plugins(self) -> set[str]:
        """The provider plugins the engine finds: installed, or named by path in the project's Pulumi.yaml."""
        if self._plugins is None:
            workspace = auto.LocalWorkspace(work_dir=str(self.project_dir), env_vars=self.env,
                                            pulumi_command=self._command())
            self._plugins = {p.name for p in workspace.list_plugins()} | project_plugins(self.project_dir)
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

    def _checkpoint(self, name: str) -> Path | None:
        """The stack's checkpoint file, on a local file backend."""
        return checkpoint_path(self.env, project_name(self.project_dir), name)

    def _command(self) -> auto.PulumiCommand:
        """The Pulumi CLI, found once (making one runs `pulumi version`)."""
        with self._cli_lock:
            if self._cli is None:
                self._cli = automation_command()
            return self._cli


@dataclass
class _Run:
    """One run of an operation, and what its stacks share from their threads: the outputs a preview read, the
    stacks previewed so far, and the offline outputs of the stacks evaluated under mocks (each evaluated once per
    run)."""

    operation: Operation
    fabric: FabricManifests
    graph: Graph
    selected: frozenset[str]
    problems: dict[str, list[Problem]]
    """With `force`: each stack's input problems (those in its cluster's folder), refusing it."""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    offline: dict[str, dict[str, Any]] = field(default_factory=dict)
    lattice: Any = None
    """The fake Lattice API the run's offline stacks create in, one after the other (clusterfabric.offline.lattice_fake)."""
    previewed: set[str] = field(default_factory=set)
    """Stacks whose preview succeeded in this run: what they will publish is what their manifests say."""
    stack_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """Variables for one stack's run only, by stack."""
    before: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    """Each stack's outputs as the run began (None: not deployed), read once for the removal order."""
    refresh: bool = False
    """A preview that reads the resources first (a drift check); nothing is written back."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def planned(self) -> frozenset[str]:
        """The stacks previewed so far (none but in a preview)."""
        with self.lock:
            return frozenset(self.previewed)


@dataclass
class _Ready:
    """A stack ready for its operation: its config in line with the run, and its rendered manifests compared
    with its state."""

    name: str
    stack: auto.Stack
    config: dict[str, str]
    outputs: Callable[[], dict[str, Any]]
    """What it published at its last `up`: read once, and only if needed."""
    drift: list[Drift]
    """Its rendered manifests changed by hand."""
    absent: list[Drift]
    """The differences when its manifests here are not this backend's (`unchecked` says why): no hand changes, but
    an `up` writes what its state holds."""
    unchecked: str
    """Why its rendered manifests were not compared ("" when they were)."""

    @functools.cached_property
    def target(self) -> ClusterTarget | None:
        """The API server it applies to (None: it renders)."""
        return target_from_config(self.config)


class _Refused(Exception):
    """A stack's operation refused before the engine ran (see refusals.py): its result says why."""


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise _Refused(refusal)


def _selected(order: list[str], stacks: list[str] | None) -> list[str]:
    """The stacks asked for (None: all), in run order; UnknownStackError names any the fabric does not have."""
    unknown = set(stacks or []) - set(order)
    if unknown:
        raise UnknownStackError(f"no stack {', '.join(sorted(unknown))} in the fabric (stacks: {', '.join(order)})")
    return [s for s in order if stacks is None or s in stacks]


def _readers_first(reads: dict[str, set[str]]) -> list[str]:
    """The stacks of `reads` (stack -> the stacks it reads), each before those it reads (a cycle: in name order)."""
    order: list[str] = []
    left = dict(sorted(reads.items()))
    while left:
        ready = [s for s in left if not any(s in r for other, r in left.items() if other != s)] or [next(iter(left))]
        order += ready
        for stack in ready:
            del left[stack]
    return order


def _schedule(graph: Graph, order: list[str], operation: Operation,
              first: Mapping[str, set[str]]) -> tuple[list[str], dict[str, set[str]]]:
    """The run's order and what each stack waits for: among the stacks before it in `order`, those it reads, or
    to destroy, those that read it (a cycle of soft edges is broken by the order); `first`: stack -> stacks of the
    run to go before it although they read it (importers first, for a removal). When `first` cannot be kept
    (the stacks need each other otherwise too), the usual order, and the removal's refusal says what to do."""
    def waits_for(stack: str, other: str) -> bool:
        return stack in graph.needs(other) if operation == "destroy" else other in graph.needs(stack)

    usual = {s: {d for d in order[:i] if waits_for(s, d)} for i, s in enumerate(order)}
    if not first:
        return order, usual
    waits = {s: (usual[s] - {e for e, importers in first.items() if s in importers}) | (set(first.get(s, ())) &
                                                                                         set(order)) for s in order}
    scheduled = topological(order, waits)
    return (scheduled, waits) if scheduled is not None else (order, usual)


def _succeeded(ready: _Ready, operation: Operation, changes: Mapping[str, int], events: EngineEvents, *,
               warned: Sequence[Drift] = (), message: str = "") -> StackResult:
    """A successful engine run: its resource changes and what the engine reported, the drift found before it,
    and `warned`, the drift to warn about."""
    return StackResult(ready.name, operation, "succeeded", changes={k: int(v) for k, v in changes.items()},
                       warnings=events.warnings + [str(d) for d in warned], steps=events.steps, policy=events.policy,
                       drift=[str(d) for d in ready.drift], message=message)


def _engine_failed(ready: _Ready, operation: Operation, err: auto.errors.CommandError,
                   events: EngineEvents) -> StackResult:
    """A failed engine run: why, as the engine said it (else the command's error), and for an API server out of
    reach, what to do. A stack locked by another run is no failure: raised again, for the wait (Fabric._waiting)."""
    if isinstance(err, auto.errors.ConcurrentUpdateError):
        raise err
    message = events.failure()
    if "cluster is unreachable" in message and ready.target:
        message += (f"\n{ready.name} applies to the API server of {ready.target.kubeconfig}: start it (a local "
                    "control plane: `clusterfabric apiservers start` or `up --apiservers`) and run again; to render "
                    "this stack instead, run with `--render` while that server is up (its objects move into files)")
    return StackResult(ready.name, operation, "failed", message=message or command_error(err),
                       warnings=events.warnings, steps=events.steps, policy=events.policy)


def _not_restored(drift: list[Drift]) -> list[Drift]:
    """The drift an `up` does not restore: files no resource of the stack wrote (a hand removes them)."""
    return [d for d in drift if not d.urn]


def _restored_text(drift: list[Drift], absent: list[Drift]) -> str:
    if absent:
        return f"wrote the {len(absent)} manifests its state holds that were not here (rendered elsewhere before)"
    return f"restored {len(drift)} hand-changed manifests"


def _namespaces(stack: auto.Stack) -> list[str]:
    """The namespaces a stack declared (to finalize after destroy, where no namespace controller runs)."""
    resources = (stack.export_stack().deployment or {}).get("resources", [])
    return sorted(r["inputs"]["metadata"]["name"] for r in resources
                  if r.get("type") == "kubernetes:core/v1:Namespace" and r.get("inputs", {}).get("metadata"))


def _changes_text(changes: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in changes.items() if v and k != "same")
