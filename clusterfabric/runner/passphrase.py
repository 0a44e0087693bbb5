"""Rotating the passphrase that encrypts every stack's secrets, all stacks or none.

Each stack is re-encrypted with `pulumi stack change-secrets-provider
passphrase`, which reads the new passphrase from its standard input when not
interactive and the current one from the environment. The new passphrase is
written next to the current one (`<file>.new`, owner-only) before any stack
changes, so that:

- when a stack fails, the stacks already moved are moved back, `.new` is
  removed, and the error says which stack failed and why: nothing half-done;
- when the rotation itself is killed, running it again resumes with the same
  new passphrase, skipping the stacks it already opens;
- only when every stack is moved does `.new` replace the passphrase file (an
  atomic rename), and the old passphrase is gone from the disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Mapping

from ..toolchain import run_pulumi, write_private


class RotationError(RuntimeError):
    """The rotation could not be done; every stack is left under the passphrase it had."""


def _with_passphrase(env: Mapping[str, str], phrase: str) -> dict[str, str]:
    moved = {k: v for k, v in env.items() if k not in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    moved["PULUMI_CONFIG_PASSPHRASE"] = phrase
    return moved


def _opens(env: Mapping[str, str], project_dir: Path, stack: str, phrase: str) -> bool:
    """Whether `phrase` decrypts the stack's secrets (every one in its state, not only its outputs)."""
    return run_pulumi(_with_passphrase(env, phrase), project_dir,
                   ["stack", "export", "--show-secrets", "--stack", stack]).returncode == 0


def _change(env: Mapping[str, str], project_dir: Path, stack: str, old: str, new: str) -> str | None:
    """Re-encrypt one stack from `old` to `new`; the CLI's error, or None when done."""
    done = run_pulumi(_with_passphrase(env, old), project_dir,
                   ["stack", "change-secrets-provider", "passphrase", "--stack", stack], stdin=new + "\n")
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return "\n".join(lines[-3:]) or f"exited {done.returncode}"


def rotate(project_dir: Path, env: Mapping[str, str], stacks: list[str],
           progress: Callable[[str], None] = lambda line: None) -> None:
    """Move `stacks` to a new random passphrase and make it the one in the passphrase file."""
    if "PULUMI_CONFIG_PASSPHRASE" in env or not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        raise RotationError("the passphrase is not kept in a file (PULUMI_CONFIG_PASSPHRASE is set): rotate with "
                            "`pulumi stack change-secrets-provider passphrase` per stack and change the variable")
    current_file = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    pending = current_file.with_name(current_file.name + ".new")
    old = current_file.read_text().strip()
    if pending.exists():
        new = pending.read_text().strip()
        progress(f"resuming the rotation begun with {pending}")
    else:
        new = secrets.token_urlsafe(32)
        write_private(pending, new)
    moved: list[str] = []
    for stack in stacks:
        if _opens(env, project_dir, stack, new):
            progress(f"{stack}: already under the new passphrase")
            moved.append(stack)
            continue
        error = _change(env, project_dir, stack, old, new)
        if error:
            undone = [s for s in moved if _change(env, project_dir, s, new, old) is None]
            left = sorted(set(moved) - set(undone))
            if not left:
                pending.unlink()
            raise RotationError(
                f"{stack}: could not change its passphrase: {error}\n"
                + (f"moved back: {', '.join(undone)}; " if undone else "")
                + ("every stack keeps the current passphrase" if not left else
                   f"STILL UNDER THE NEW PASSPHRASE (kept in {pending}): {', '.join(left)}"))
        progress(f"{stack}: re-encrypted")
        moved.append(stack)
    os.replace(pending, current_file)  # the last step: from here on, the new passphrase is the one
    progress(f"{len(moved)} stacks now use the new passphrase in {current_file}")
