"""What the engine says during one stack's operation, translated: progress `Event`s as they happen, and the
warnings, errors, planned steps and policy results its `StackResult` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pulumi import automation as auto


@dataclass
class Event:
    """Progress, as it happens: `started`, `step` (a resource operation), `diagnostic`, `finished`."""

    stack: str
    kind: str
    message: str


@dataclass
class EngineEvents:
    """One operation's engine events, noted as they come; `emit(kind, message)` passes each on as progress."""

    emit: Callable[[str, str], None]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    """Each planned resource step: op, urn, type, diffs."""
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
            op = str(meta.op.value if hasattr(meta.op, "value") else meta.op)
            if op not in ("same", "read"):
                changed = list(meta.diffs or []) or sorted((meta.detailed_diff or {}).keys())
                self.steps.append({"op": op, "urn": meta.urn, "type": meta.type, "diffs": changed})
                self.emit("step", f"{op} {meta.type} {meta.urn.split('::')[-1]}")
        elif event.diagnostic_event and event.diagnostic_event.severity in ("warning", "error"):
            message = event.diagnostic_event.message.strip()
            (self.warnings if event.diagnostic_event.severity == "warning" else self.errors).append(message)
            self.emit("diagnostic", f"{event.diagnostic_event.severity}: {message}")
