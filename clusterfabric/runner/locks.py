"""A stack locked by another run: wait for it, within a bound, then run; or refuse, naming the holder.

A backend other than Pulumi Cloud (a bucket, a folder) lets one update at a time change a stack: `pulumi up`,
`refresh`, `destroy`, `stack import` write a lock object beside the state and remove it when done. Another run then
fails at once, the Automation API raising ConcurrentUpdateError with Pulumi's message (pkg/backend/diy/lock.go):

    the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock
    file with `pulumi cancel`.
      s3://state/.pulumi/locks/organization/fabric/east/1f0c….json: created by alice@ci-1 (pid 4242) at 2026-…

Pulumi Cloud says `[409] Conflict: Another update is currently in progress.` and names no one. Two CI jobs deploying
the same stack would fail one of them for nothing; here the later one waits: it tries again with a growing pause
(LockWait: doubling from a second to at most 15 s, a little randomness so that two waiting runs do not try in step,
at most MAX_ATTEMPTS tries) until the lock is gone or `timeout` seconds have passed, and then refuses with Pulumi's
own account of the holder and what to do. A holder on this machine whose process no longer exists (a killed run)
(its lock named again on the next try) is not waited for: its lock stays until someone removes it.
"""

from __future__ import annotations

import random
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from pulumi import automation as auto

from .processes import alive as running

T = TypeVar("T")

DEFAULT_LOCK_TIMEOUT = 300.0
"""Seconds a run waits for another run's lock on a stack by default (`--lock-timeout`): about as long as an `up` of a
large stack takes."""
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 15.0
MAX_ATTEMPTS = 100
"""Tries at most, whatever the timeout: a bound on the calls made to the backend while waiting."""

_LOCKED = re.compile(r"the stack is currently locked by (\d+) lock\(s\)")
_HOLDER = re.compile(r"^\s*(?P<lock>\S+): created by (?P<user>[^@\s]*)@(?P<host>\S*) \(pid (?P<pid>\d+)\) at "
                     r"(?P<at>\S+)\s*$", re.MULTILINE)
_CLOUD = "Another update is currently in progress"


@dataclass(frozen=True)
class Holder:
    """A lock on the stack, as Pulumi reports it: the lock object, and the process that wrote it."""

    lock: str
    user: str
    host: str
    pid: int
    at: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}) since {self.at}, lock {self.lock}"

    def gone(self, host: str, alive: Callable[[int], bool]) -> bool:
        """Whether the process holding it is known to have ended: it ran on this machine (`host`) and is not
        running."""
        return self.host == host and not alive(self.pid)


@dataclass(frozen=True)
class Locked:
    """Why a command could not take the stack's lock: the holders Pulumi named (none for Pulumi Cloud)."""

    holders: tuple[Holder, ...]
    cloud: bool = False

    def __str__(self) -> str:
        if self.cloud:
            return "another update of the stack is in progress (Pulumi Cloud names no holder)"
        return "; ".join(str(h) for h in self.holders) or "a lock Pulumi did not describe"


def locked(text: str) -> Locked | None:
    """The lock a failed command's output reports (None: it failed for another reason)."""
    if _LOCKED.search(text):
        return Locked(tuple(Holder(m["lock"], m["user"], m["host"], int(m["pid"]), m["at"])
                            for m in _HOLDER.finditer(text)))
    if _CLOUD in text:
        return Locked((), cloud=True)
    return None


class StackLocked(Exception):
    """The stack stayed locked by another run past the wait's bound (or by a run that has ended): the message says
    by whom, how long this run waited, and what to do."""


@dataclass
class LockWait:
    """How long to wait for a lock: `timeout` seconds in all, pauses doubling from FIRST_PAUSE to LONGEST_PAUSE."""

    timeout: float = DEFAULT_LOCK_TIMEOUT
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    alive: Callable[[int], bool] = running
    """Whether a process of this machine runs."""
    host: str = field(default_factory=socket.gethostname)
    """This machine, as a lock names it."""

    def run(self, stack: str, call: Callable[[], T], on_wait: Callable[[str], None] = lambda line: None) -> T:
        """`call()`, tried again while it fails because another run holds the stack's lock; StackLocked when the
        bound passes first. `on_wait` hears each pause: who holds the lock, for how much longer this run waits."""
        started, pause = self.clock(), FIRST_PAUSE
        ended: set[str] = set()  # locks seen once with their holder gone
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return call()
            except auto.errors.ConcurrentUpdateError as err:
                lock = locked(str(err)) or Locked(())
            waited = self.clock() - started
            left = self.timeout - waited
            # Stale only when named twice: Pulumi checks, writes its lock and checks again, so two runs starting
            # together can each fail on the other's lock, whose CLI may have exited by the time it is named.
            gone = {h.lock for h in lock.holders if h.gone(self.host, self.alive)}
            if gone & ended:
                raise StackLocked(_refusal(stack, lock, waited, self.timeout, stale=True)) from None
            ended |= gone
            if left <= 0 or attempt == MAX_ATTEMPTS:
                raise StackLocked(_refusal(stack, lock, waited, self.timeout)) from None
            wait = min(pause * (1 + 0.25 * self.jitter()), left)
            on_wait(f"locked by another run: {lock}; trying again in {wait:.0f} s "
                    f"(waited {waited:.0f} s of --lock-timeout {self.timeout:.0f})")
            self.sleep(wait)
            pause = min(pause * 2, LONGEST_PAUSE)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _refusal(stack: str, lock: Locked, waited: float, timeout: float, stale: bool = False) -> str:
    cancel = f"`pulumi cancel --yes --stack {stack}` (with this fabric's backend) removes it"
    if stale:
        return (f"stack {stack} is locked by a run that no longer exists: {lock}; nothing is running, so {cancel}, "
                "and run again (the next run converges from the saved state)")
    if lock.cloud:
        return (f"stack {stack}: {lock}, still after {waited:.0f} s (--lock-timeout {timeout:.0f}); run again once "
                f"it is over, or cancel it with `pulumi cancel --yes --stack {stack}`")
    return (f"stack {stack} is locked by another run: {lock}; still locked after {waited:.0f} s (--lock-timeout "
            f"{timeout:.0f}). Run again once that run is over (or with a longer --lock-timeout); if it was stopped and "
            f"left its lock, {cancel}")
