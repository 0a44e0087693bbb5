"""Where the rotation of the fabric's certificates stands, and what comes next.

ClusterLink v0.4.1 reloads a peer's certificate and its CA bundle while it runs: `cl-controlplane` watches the files
of Secret `cl-peer` (pkg/controlplane/peer/certs.go, `CertsWatcher`), reads the CA file as a PEM bundle into one
pool (pkg/util/tls `ParseFiles`: `AppendCertsFromPEM`), and hands both to its data planes over xDS
(pkg/controlplane/xds `SetPeerCertificates`), which use them for each new connection. So a fabric CA can be rolled
over without a restart, if every peer trusts the new CA before any peer presents a certificate of it, and no peer
drops the old CA while another still presents one of its certificates. Hence three phases, each one fabric `up`:

1. `trust`: a new fabric CA is issued; every peer trusts both CAs (their certificates are still the old CA's);
2. `reissue`: every peer gets a certificate of the new CA (still trusting both);
3. `drop`: every peer trusts the new CA only; the old CA is deleted, its key with it.

The CA owner's stack records the state (stack output `certificateRotation`) and reads it back at its next run
(from itself), so any later `up` applies the same phase; every other ClusterLink stack publishes the state it
applied, so the fabric layer sees which stacks a phase has reached. Pure: no pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, Mapping

Phase = Literal["trust", "reissue", "drop"]
PHASES: tuple[Phase, ...] = ("trust", "reissue", "drop")
ROTATION_ENV = "CLUSTERFABRIC_CERTIFICATE_ROTATION"
"""Set by the fabric layer in the environment of the CA owner's run only, to the state that run is to reach (JSON
of `RotationState.output`); the program refuses any state that does not follow the one it records."""


@dataclass(frozen=True)
class RotationState:
    """The fabric CA's generation (0: the first), the last phase of its rollover applied (None: never rolled over),
    and how many times each peer's certificate was renewed."""

    generation: int = 0
    phase: Phase | None = None
    renewals: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, published: Any) -> "RotationState":
        """From a stack's `certificateRotation` output; absent (a stack of an earlier release): never rotated."""
        if not published:
            return cls()
        return cls(int(published["generation"]), published.get("phase"),
                   {peer: int(n) for peer, n in (published.get("renewals") or {}).items()})

    def output(self) -> dict[str, Any]:
        return {"generation": self.generation, "phase": self.phase, "renewals": dict(sorted(self.renewals.items()))}

    @property
    def rolling_over(self) -> bool:
        """A rollover is under way: the old CA is still trusted."""
        return self.phase in ("trust", "reissue")

    @property
    def trusted(self) -> tuple[int, ...]:
        """The generations of fabric CA every peer trusts, oldest first."""
        return (self.generation - 1, self.generation) if self.rolling_over else (self.generation,)

    @property
    def signer(self) -> int:
        """The generation of fabric CA that issues the peers' certificates."""
        return self.generation - 1 if self.phase == "trust" else self.generation

    def renewal(self, peer: str) -> int:
        return self.renewals.get(peer, 0)

    def next_phase(self) -> "RotationState":
        """The state after the next phase of the rollover (after `drop`, or never rolled over: a new rollover)."""
        if self.rolling_over:
            return replace(self, phase=PHASES[PHASES.index(self.phase) + 1])  # type: ignore[arg-type]
        return replace(self, generation=self.generation + 1, phase="trust")

    def renewed(self, peer: str) -> "RotationState":
        return replace(self, renewals={**self.renewals, peer: self.renewal(peer) + 1})

    def follows(self, recorded: "RotationState") -> bool:
        """Whether this state may be applied where `recorded` was: the same (a phase run again), or one step on."""
        if self == recorded or self == recorded.next_phase():
            return True
        grown = {p for p in set(self.renewals) | set(recorded.renewals) if self.renewal(p) != recorded.renewal(p)}
        return (len(grown) == 1 and self == recorded.renewed(next(iter(grown))))

    def reached(self, applied: "RotationState", peer: str) -> bool:
        """Whether peer `peer`'s stack, having applied `applied`, is at this state: the same fabric CA phase, and
        its own certificate's renewal."""
        return (applied.generation, applied.phase, applied.renewal(peer)) == (
            self.generation, self.phase, self.renewal(peer))

    def describe(self) -> str:
        if self.phase is None:
            return f"fabric CA generation {self.generation}"
        return f"phase {self.phase} of the rollover to fabric CA generation {self.generation}"


def rollover_steps(recorded: RotationState, behind: list[str]) -> list[RotationState]:
    """The states `rotate-certificates --fabric-ca` applies, one fabric `up` each, given what the CA owner records
    and the stacks still `behind` it. An interrupted rollover is finished: its recorded phase runs again where it
    did not reach, then the phases after it; otherwise a new rollover runs all three phases."""
    steps = [recorded] if behind and recorded.phase is not None else []
    if recorded.phase == "drop" and steps:
        return steps
    state = recorded
    while state.phase != "drop" or state == recorded:
        state = state.next_phase()
        steps.append(state)
    return steps
