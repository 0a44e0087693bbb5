"""A copy of the example fabric edited in place (the `fabric` fixture, tests/unit/conftest.py), and what
`clusterfabric validate` says of it: one line per problem, without the copy's directory."""

from __future__ import annotations

from pathlib import Path

from clusterfabric.runner.cli import validate


def edit(fabric: Path, file: str, old: str, new: str) -> None:
    path = fabric / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def edit_all(fabric: Path, edits: list[tuple[str, str, str]]) -> None:
    """Each (file, old, new) edit, in order."""
    for file, old, new in edits:
        edit(fabric, file, old, new)


def lines(fabric: Path) -> list[str]:
    """Problems without the fabric directory prefix."""
    problems, _ = validate(fabric)
    return [p.replace(f"{fabric}/", "") for p in problems]


def warning_lines(fabric: Path) -> list[str]:
    """Warnings without the fabric directory prefix, when there is no problem."""
    problems, warnings = validate(fabric)
    assert problems == []
    return [w.replace(f"{fabric}/", "") for w in warnings]
