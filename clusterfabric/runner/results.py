"""How a fabric run went: a `StackResult` per stack, in a `FabricResult`. Its own module so that the engine's
events (events.py) and the runner (fabric.py) both use them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from clusterfabric.components.model.certificates import Expiry

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
    """For previews: each object's planned change (changes.py: op, urn, type, each changed field old and new)."""
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
    expiring: list[Expiry] = field(default_factory=list)
    """For a preview: the fabric's deployed certificates that expire soon (a warning) or have expired (an error)."""

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stacks) and not any(e.expired for e in self.expiring)

    def stack(self, name: str) -> StackResult:
        return next(s for s in self.stacks if s.stack == name)
