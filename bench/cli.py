"""The benchmarks' command lines: size lists, keeping the figures, printing the figure last."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .measure import REPO

RESULTS = REPO / "bench" / "results"


def sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s]


def save(name: str, results: dict[str, Any], started: float, argv: list[str]) -> Path:
    """Keep a benchmark's figures (and when, how long, with which flags) for bench/RESULTS.md."""
    path = RESULTS / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    results = {**results, "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
               "duration_seconds": time.time() - started,
               "command": " ".join(["python -m bench." + name, *argv])}
    path.write_text(json.dumps(results, indent=1) + "\n")
    return path


def main_of(name: str, doc: str, arguments_of: Callable[[argparse.ArgumentParser], None],
            run_with: Callable[[argparse.Namespace], dict[str, Any]], markdown_of: Callable[[dict[str, Any]], str],
            summary_of: Callable[[dict[str, Any]], str],
            argv: list[str] | None) -> None:
    """A benchmark's command line: flags, run, keep the figures, print the tables and then the figure last."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=doc.split("\n\n")[0])
    arguments_of(parser)
    started = time.time()
    results = run_with(parser.parse_args(argv))
    save(name, results, started, argv)
    print(markdown_of(results))
    print(summary_of(results))
