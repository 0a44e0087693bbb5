"""How the benchmarks measure: child processes, their peak memory, medians, and fits of growth.

Every measured thing runs in a child process of its own, so its peak memory
(`ru_maxrss` from `wait4`, the child and the descendants it waited for) is its
own and no run warms the next one's caches. Figures are medians of repeats,
and a figure that matters is a ratio to a baseline measured in the same run,
interleaved with it, so the machine's load (other builds on two cores) weighs
on both sides alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable


@dataclass
class Run:
    """One child process: its wall time, peak memory, and what it printed."""

    wall: float
    maxrss_kb: int
    returncode: int
    stdout: str
    stderr: str

    def report(self) -> dict[str, Any]:
        """The JSON object the child printed on its last line (benchmark children end that way)."""
        if self.returncode != 0:
            raise RuntimeError(f"child failed ({self.returncode}):\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}")
        return json.loads(self.stdout.strip().splitlines()[-1])


def python_child(module: str, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 stdin: str | None = None) -> Run:
    """`python -m module args...` with the project's interpreter, measured.

    The tree this benchmark runs from comes first on PYTHONPATH, for the child and whatever it starts (the
    engine's Python programs too), so what is measured is this tree's code.
    """
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return run_measured([PYTHON, "-m", module, *args], cwd=cwd or REPO, env=env, stdin=stdin)


def run_measured(argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
                 stdin: str | None = None) -> Run:
    """Run `argv`, collecting its output through files so the child can be reaped with wait4 (its own rusage)."""
    out_dir = Path(os.environ.get("TMPDIR", "/tmp"))
    stamp = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    out_path, err_path = out_dir / f"{stamp}.out", out_dir / f"{stamp}.err"
    started = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        child = subprocess.Popen(list(argv), cwd=cwd, env=None if env is None else dict(env), text=True,
                                 stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                 stdout=out, stderr=err)
        if stdin is not None:
            assert child.stdin is not None
            child.stdin.write(stdin)
            child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)  # blocking: the output goes to files, no pipe can fill
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    try:
        return Run(wall, usage.ru_maxrss, child.returncode, out_path.read_text(), err_path.read_text())
    finally:
        out_path.unlink(missing_ok=True)
        err_path.unlink(missing_ok=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def interleave(repeats: int, sides: Mapping[str, Callable[[], dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Run each side `repeats` times, alternating the order (A B, B A, ...) so drift in load hits both."""
    names = list(sides)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(repeats):
        for name in (names if r % 2 == 0 else list(reversed(names))):
            results[name].append(sides[name]())
    return results


def medians(runs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """The median of every numeric field over `runs`."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {k: median([float(r[k]) for r in runs]) for k in keys}


@dataclass(frozen=True)
class Fit:
    """y = slope * x + intercept, least squares; `r2` says how well a line explains the points."""

    slope: float
    intercept: float
    r2: float


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    n = len(xs)
    if n < 2:
        return Fit(float("nan"), float("nan"), float("nan"))
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    intercept = my - slope * mx
    total = sum((y - my) ** 2 for y in ys)
    residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys))
    return Fit(slope, intercept, 1 - residual / total if total else 1.0)


@dataclass
class Table:
    """A Markdown table built row by row."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(value: float) -> str:
    return f"{value:.2f}x"
