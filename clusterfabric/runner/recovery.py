"""Recovery advice on a local file backend: what an interrupted run left behind (a checkpoint or its metadata
cut short, a lock of a run that no longer exists, pending operations) and the command that clears it."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any, Mapping

from pulumi import automation as auto



def checkpoint_path(env: Mapping[str, str], project: str, name: str) -> Path | None:
    """Stack `name`'s checkpoint file in project `project`, on a local file backend (None on another backend)."""
    url = env.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        return None
    return Path(url.removeprefix("file://").split("?")[0]) / ".pulumi" / "stacks" / project / f"{name}.json"


def command_error(err: auto.errors.CommandError, checkpoint: Path | None = None) -> str:
    """The useful part of a failed Pulumi command: its error lines, not the whole transcript, and what to do."""
    text = str(err)
    lines = [line.strip() for line in text.splitlines() if "error:" in line]
    message = "\n".join(dict.fromkeys(lines)) or text.strip().splitlines()[-1]
    advice = [a for a in (_stale_lock(text, checkpoint), _cut_short(checkpoint)) if a]
    return "\n".join([message, *advice])


def _cut_short(checkpoint: Path | None) -> str | None:
    """When a killed run left the stack's checkpoint, or the metadata file beside it, unreadable: what to do.

    The file backend writes a checkpoint atomically (a temporary file, renamed), but its `.attrs` metadata
    sidecar (content type and checksum, no state) in place: a kill between truncating and writing it leaves
    it empty, and Pulumi then cannot load the stack ("EOF"). Removing that file loses nothing; the backend
    reads a checkpoint without one. A checkpoint itself cut short is put back from its backup.
    """
    if checkpoint is None or not checkpoint.is_file():
        return None
    attrs = checkpoint.with_name(checkpoint.name + ".attrs")
    try:
        json.loads(checkpoint.read_text())
    except (ValueError, OSError):
        return (f"the stack's checkpoint {checkpoint} was cut short by an interrupted run: put back the previous "
                f"one, `cp {checkpoint}.bak {checkpoint} && cp {checkpoint}.bak.attrs {attrs}` (or `pulumi stack "
                "history` and `pulumi stack import`), then run again; the next run converges from it")
    try:
        if attrs.is_file():
            json.loads(attrs.read_text())
        return None
    except (ValueError, OSError):
        return (f"the checkpoint's metadata file {attrs} was cut short by an interrupted run (the backend writes "
                f"it in place); it holds no state: remove it, `rm {attrs}`, and run again")


def _stale_lock(text: str, checkpoint: Path | None) -> str | None:
    """When a local-backend lock belongs to a run that no longer exists (killed), say so and what to do.

    The locks are looked up beside the checkpoint, not only in the error: Pulumi may report a cut-short
    checkpoint before the lock.
    """
    paths = [Path(m.removeprefix("file://")) for m in re.findall(r"(file://\S+/locks/\S+?\.json)", text)]
    if checkpoint is not None:
        backend = checkpoint.parents[3]  # <backend>/.pulumi/stacks/<project>/<stack>.json
        project = checkpoint.parent.name
        paths += sorted((backend / ".pulumi" / "locks").glob(f"*/{project}/{checkpoint.stem}/*.json"))
    for path in paths:
        try:
            lock = json.loads(path.read_text())
            pid = int(lock.get("pid", 0))
            if lock.get("hostname") not in (None, socket.gethostname()):
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            stack = checkpoint.stem if checkpoint else path.parent.name
            return (f"the lock was left by a run that no longer exists (pid {pid}, interrupted?): nothing is running, "
                    f"so clear it with `scripts/pulumi cancel --yes --stack {stack}` and run again; the next run "
                    "converges from the saved state")
        except (OSError, ValueError):
            continue
    return None


def pending_operations(checkpoint: Path | None) -> list[str]:
    """The operations an interrupted run left pending in a stack's checkpoint; none without a checkpoint file."""
    try:
        latest = json.loads(checkpoint.read_text())["checkpoint"].get("latest") or {} if checkpoint else {}
    except (OSError, ValueError, KeyError):
        return []
    return pending_in(latest)


def pending_in(deployment: Mapping[str, Any]) -> list[str]:
    """The pending operations of a deployment (a checkpoint's latest state, or what `pulumi stack export` gives),
    one line each: `creating Kind name`..."""
    return [f"{op['type']} {op['resource']['type']} {op['resource']['urn'].split('::')[-1]}"
            for op in deployment.get("pending_operations") or []]


def pending_advice(name: str, pending: list[str]) -> str:
    shown = "; ".join(pending[:5]) + (f"; and {len(pending) - 5} more" if len(pending) > 5 else "")
    return (f"{len(pending)} operations were interrupted in an earlier run and are still pending in the state "
            f"({shown}): `up` makes their resources again, so clear them with `clusterfabric clear-pending "
            f"--stack {name}` and run `up`")
