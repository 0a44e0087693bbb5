"""The two programs the engine runs for the program-cost benchmark, each reporting its own peak memory.

A throwaway project's `__main__.py` calls one of these (`bench/engines.py`
writes it): `components` runs the repository's own `__main__.py` unchanged,
`baseline` replays the recording flat (bench/replay.py). At exit each writes its
process's ru_maxrss to `$BENCH_PROGRAM_STATS`, so the Python program's memory is
told apart from the engine's and the provider's.
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import runpy
import time
from pathlib import Path
from typing import Any

import pulumi

from .measure import REPO
from .replay import preload, read_spec, replay

STARTED = time.perf_counter()
REPLAY_FILE = "replay.json"
READS: list[dict[str, Any]] = []
"""Each StackReference the program made: the stack it names, and seconds from creation to its outputs read."""


def _report_at_exit() -> None:
    path = os.environ.get("BENCH_PROGRAM_STATS")
    if path:
        atexit.register(lambda: Path(path).write_text(json.dumps({
            "program_seconds": time.perf_counter() - STARTED,
            "program_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "reads": READS})))


def _time_stack_references() -> None:
    """Note every StackReference and when the engine's read of it came back (its outputs resolved)."""
    original = pulumi.StackReference.__init__

    def init(ref, name, *args, **kwargs):
        created = time.perf_counter()
        original(ref, name, *args, **kwargs)
        read = {"stack": str(name).split("/")[-1], "seconds": None}
        READS.append(read)
        ref.outputs.apply(lambda _: read.update(seconds=time.perf_counter() - created))

    pulumi.StackReference.__init__ = init  # type: ignore[method-assign]


def components() -> None:
    _report_at_exit()
    _time_stack_references()
    runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")


def baseline() -> None:
    _report_at_exit()
    root = Path(pulumi.get_root_directory())
    spec = read_spec(root / REPLAY_FILE)
    preload(spec)
    replay(spec, render_directory=str(root / "rendered" / pulumi.get_stack()))
