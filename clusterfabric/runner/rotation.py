"""`rotate-certificates`: the fabric's certificates replaced as a planned change, one fabric `up` per phase.

- `peer`: the peer's certificate is issued again (a new key, the same fabric CA): one `up` of the CA owner and
  the peer. The old certificate stays valid until it expires, as ClusterLink checks no revocation: to shut out a
  compromised or removed peer's certificate, roll the fabric CA over.
- `fabric_ca`: the rollover of components/model/rotation.py, `trust`, `reissue`, `drop`, each an `up` of every
  deployed ClusterLink stack in dependency order (the CA owner first).

After each `up` the rotation waits fabric.yaml's `certificates.propagationSeconds`: the kubelet brings a changed
Secret into the running pods within its sync period, and only then has every control plane loaded the phase (it
reloads `cl-peer`'s files within a second of their change). The CA owner's stack records the state at its `up`;
a rotation that stopped (a failed stack, an interrupted run) is resumed by running the same command again: it
reads the recorded state and which stacks have not applied it, and goes on from there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from clusterfabric.components.contract import ROTATION_OUTPUT
from clusterfabric.components.model.rotation import ROTATION_ENV, RotationState, rollover_steps

from .results import FabricResult

if TYPE_CHECKING:
    from .fabric import Fabric


class RotationError(RuntimeError):
    """A rotation that cannot start: the message says why and what to do."""


@dataclass
class PhaseRun:
    """One `up` of a rotation: the state it applied, over which stacks, and when (wall clock, its wait included)."""

    name: str
    state: RotationState
    result: FabricResult
    started: float
    finished: float = 0.0


@dataclass
class RotationResult:
    phases: list[PhaseRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.result.ok for p in self.phases)


@dataclass(frozen=True)
class _Plan:
    """What a rotation applies: each state in order, over `stacks`, named for the user."""

    steps: list[tuple[str, RotationState]]
    stacks: list[str]


def rotate(fabric: "Fabric", *, peer: str | None = None, fabric_ca: bool = False,
           progress: Callable[[str], None] = lambda line: None,
           sleep: Callable[[float], None] = time.sleep) -> RotationResult:
    """Apply the rotation asked for, phase after phase, stopping at the first that fails."""
    model = fabric.load()
    clusters = [c.name for c, _ in model.clusterlink_clusters()]
    owner = model.ca_owner()
    if owner is None:
        raise RotationError("the fabric has no ClusterLink cluster: no certificates to rotate")
    applied = _applied(fabric, clusters)
    if owner not in applied:
        raise RotationError(f"stack {owner!r}, which issues the fabric's certificates, is not deployed: run "
                            "`clusterfabric up` first")
    plan = _renewal(owner, applied, peer) if peer else _rollover(owner, applied) if fabric_ca else None
    if plan is None:
        raise RotationError("say what to rotate: --peer NAME or --fabric-ca")
    wait = model.spec.certificates.propagationSeconds
    done = RotationResult()
    for name, state in plan.steps:
        progress(f"{name}: up of {', '.join(plan.stacks)}")
        started = time.time()
        phase = PhaseRun(name, state, fabric.up(plan.stacks, stack_env={owner: {ROTATION_ENV: json.dumps(
            state.output())}}), started)
        done.phases.append(phase)
        if not phase.result.ok:
            progress(f"{name}: failed; the state records how far it went: run the same command again to resume")
            break
        progress(f"{name}: applied; waiting {wait}s for the kubelets to bring the new Secrets into the pods")
        sleep(wait)
        phase.finished = time.time()
    return done


def _applied(fabric: "Fabric", clusters: list[str]) -> dict[str, RotationState]:
    """The rotation state each deployed ClusterLink stack applied at its last `up`."""
    applied = {}
    for cluster in clusters:
        outputs: dict[str, Any] | None = fabric.deployed_outputs(cluster)
        if outputs:  # a stack made but never brought up has none
            applied[cluster] = RotationState.parse(outputs.get(ROTATION_OUTPUT))
    return applied


def _renewal(owner: str, applied: dict[str, RotationState], peer: str) -> _Plan:
    if peer not in applied:
        raise RotationError(f"peer {peer!r} is no deployed ClusterLink cluster of the fabric (deployed: "
                            f"{', '.join(sorted(applied))})")
    recorded = applied[owner]
    # A renewal the peer's stack did not apply yet is finished, not made again.
    state = recorded if not recorded.reached(applied[peer], peer) else recorded.renewed(peer)
    return _Plan([(f"renew {peer}", state)], list(dict.fromkeys([owner, peer])))


def _rollover(owner: str, applied: dict[str, RotationState]) -> _Plan:
    recorded = applied[owner]
    behind = [s for s, state in applied.items() if not recorded.reached(state, s)]
    steps = rollover_steps(recorded, behind)
    return _Plan([(f"{state.phase} (fabric CA generation {state.generation})", state) for state in steps],
                 list(applied))
