"""What the engine says during one stack's operation, translated: progress `Event`s as they happen, and the
warnings, errors, planned steps and policy results its `StackResult` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pulumi import automation as auto

from .changes import REPLACEMENT, change, lines, merged
from .results import StackResult

EventKind = Literal["started", "waiting", "step", "diagnostic", "policy", "read back", "finished"]


@dataclass
class Event:
    """Progress, as it happens: `started`, `waiting` (for another run's lock on the stack), `step` (a resource
    operation), `diagnostic`, `policy`, `read back`, `finished`. `message` is the line to show; the typed fields
    carry the same for a program to use."""

    stack: str
    kind: EventKind
    message: str
    step: dict[str, Any] | None = None
    """For `step`: the resource operation's change (changes.py): op, urn, type, the fields changed, old and new."""
    result: StackResult | None = None
    """For `finished`: the stack's result."""


@dataclass
class EngineEvents:
    """One operation's engine events, noted as they come; `emit(kind, message)` passes each on as progress."""

    emit: Callable[..., None]
    """`emit(kind, message, **typed)`: see Event."""
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    """Each planned resource step's change (changes.py), one per object (a replacement's steps are one)."""
    policy: list[dict[str, str]] = field(default_factory=list)
    """Policy pack results: policy, enforcement level, resource, message."""

    def handle(self, event: auto.events.EngineEvent) -> None:
        """Note one engine event, and pass it on as an `Event`."""
        if event.policy_event:
            p = event.policy_event
            level = str(p.enforcement_level.value if hasattr(p.enforcement_level, "value") else p.enforcement_level)
            message = " ".join(p.message.split())
            self.policy.append({"policy": p.policy_name, "level": level.lower(),
                                 "resource": (p.resource_urn or "").split("::")[-1] or "stack", "message": message})
            self.emit("policy", f"[{level.lower()}] {p.policy_name}: {message}")
            return
        if event.resource_pre_event:
            meta = event.resource_pre_event.metadata
            if str(meta.op.value if hasattr(meta.op, "value") else meta.op) in ("same", "read"):
                return
            step = change(meta)
            if step["op"] in REPLACEMENT:  # a replacement's steps come one by one: one change of the object
                earlier = next((i for i, s in enumerate(self.steps) if s["urn"] == step["urn"]), None)
                if earlier is not None:
                    self.steps[earlier] = merged(self.steps[earlier], step)
                    return
            self.steps.append(step)
            self.emit("step", "\n".join(lines(step)), step=step)
        elif event.diagnostic_event and event.diagnostic_event.severity in ("warning", "error"):
            message = event.diagnostic_event.message.strip()
            (self.warnings if event.diagnostic_event.severity == "warning" else self.errors).append(message)
            self.emit("diagnostic", f"{event.diagnostic_event.severity}: {message}")

    def failure(self) -> str:
        """Why the operation failed, as the engine said it: the mandatory policies broken, or else its errors
        (without the program's exit, which only follows them); "" when it said nothing."""
        mandatory = [p for p in self.policy if p["level"] == "mandatory"]
        if mandatory:
            return "\n".join(f"[{p['level']}] {p['policy']}: {p['message']}" for p in mandatory)
        return "\n".join(e for e in self.errors if "program exited with non-zero exit code" not in e)
