"""The processes a fabric run starts: stopped with it, and found when a kill left them behind.

The Automation API runs the `pulumi` CLI as a child of this process; the CLI
starts the language host, the program and the resource providers, each in a
process group of its own. A signal to this process alone reaches none of them,
and a SIGKILL of the CLI's group leaves the plugins running. So a run that is
told to stop (SIGINT, SIGTERM) asks each CLI to cancel (SIGINT, which makes it
stop its plugins and release the stack's lock), waits a bounded time, then
kills what is left of the whole tree by PID. And each run looks for plugin
processes working in this project whose CLI is gone, and names them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

PROC = Path("/proc")
GRACE_SECONDS = 20.0
"""How long the CLIs may take to cancel and stop their plugins before what is left is killed."""


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command})"


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...); None when the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may hold spaces: the fields after the last ")" are fixed.
    return stat[stat.rindex(")") + 2:].split()


def _read(pid: int) -> Process | None:
    fields = _stat(pid)
    try:
        command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    return Process(pid, int(fields[1]), command[:200]) if fields else None


def processes() -> list[Process]:
    found = (_read(int(p.name)) for p in PROC.iterdir() if p.name.isdigit())
    return [p for p in found if p is not None]


def descendants(pid: int, table: list[Process] | None = None) -> list[Process]:
    """Every process below `pid`, parents before children."""
    table = processes() if table is None else table
    below: list[Process] = []
    frontier = [pid]
    while frontier:
        children = [p for p in table if p.parent in frontier]
        below += children
        frontier = [p.pid for p in children]
    return below


def alive(pid: int | None) -> bool:
    """Whether process `pid` runs (no PID: no)."""
    if not pid:
        return False
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has ended; its parent has not reaped it yet


def terminate(pid: int | None, grace: float = 20.0) -> None:
    """Stop a server this process started, by its PID: SIGTERM, SIGKILL when it still runs after `grace` seconds,
    then reaped. A process no longer running (or no PID) is left alone."""
    if not alive(pid):
        return
    assert pid is not None
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        _signal(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # not our child after all (started by an earlier command): init reaps it
        pass


def stop_children(grace: float = GRACE_SECONDS) -> list[Process]:
    """Stop every process this one started, and theirs: SIGINT to the direct children (the CLIs cancel and stop
    their plugins), then SIGKILL to whatever of the tree is left after `grace` seconds. Returns the tree."""
    tree = descendants(os.getpid())
    for child in (p for p in tree if p.parent == os.getpid()):
        _signal(child.pid, signal.SIGINT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p.pid) for p in tree):
        time.sleep(0.2)
    for process in tree:
        if alive(process.pid):
            _signal(process.pid, signal.SIGKILL)
    return tree


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(PROC / str(pid) / "cwd"))
    except OSError:
        return None


def leftover_plugins(project_dir: Path) -> list[Process]:
    """Pulumi plugin processes (language host, program, providers) working in `project_dir` whose `pulumi` CLI is
    gone: what a kill of a run's CLI leaves behind."""
    table = processes()
    by_pid = {p.pid: p for p in table}
    project = project_dir.resolve()
    left = []
    for process in table:
        if not _is_plugin(process.command) or _cwd(process.pid) != project:
            continue
        ancestors, parent = [], by_pid.get(process.parent)
        while parent is not None and len(ancestors) < 64:
            ancestors.append(parent)
            parent = by_pid.get(parent.parent)
        if not any(_is_cli(a.command) for a in ancestors):
            left.append(process)
    return left


def _is_plugin(command: str) -> bool:
    # The dynamic provider (the certificates') is a shell script: `sh .../pulumi-resource-pulumi-python`, whose
    # `python -m pulumi.dynamic` child serves it. So the script, not only the program, may bear the plugin's name.
    program_and_script = [Path(word).name for word in command.split(" ", 2)[:2]]
    return (any(name.startswith("pulumi-") for name in program_and_script) or "-m pulumi.dynamic" in command
            or "pulumi-language-python-exec" in command)


def _is_cli(command: str) -> bool:
    return Path(command.split(" ", 1)[0]).name == "pulumi"


def leftover_advice(left: list[Process]) -> str:
    pids = " ".join(str(p.pid) for p in left)
    return (f"{len(left)} Pulumi plugin processes of an earlier run of this project are still running with no CLI "
            f"above them (it was killed): {'; '.join(map(str, left))}. They hold nothing the next run needs; stop "
            f"them with `kill {pids}`")


class Stopped(SystemExit):
    """Raised in the main thread when the run was told to stop; its code is 128 + the signal's number."""


@contextmanager
def stopped_on_signals(grace: float = GRACE_SECONDS, on_stop: Callable[[str], None] = lambda line: None):
    """While inside, SIGINT and SIGTERM stop every process this one started (see `stop_children`) and then end the
    run with `Stopped`. Only the main thread can take signals: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame) -> None:
        signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the stopping short
        name = signal.Signals(signum).name
        on_stop(f"{name}: asking the running Pulumi CLIs to cancel, then stopping what is left "
                f"(at most {grace:.0f}s)")
        stopped = stop_children(grace)
        on_stop(f"{name}: stopped {len(stopped)} processes: {', '.join(str(p.pid) for p in stopped) or 'none'}")
        raise Stopped(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
