"""Input errors that name where the problem is: file, object and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input, printed as `FILE: KIND/NAMESPACE/NAME: FIELD: message`."""

    file: str
    object: str  # kind/namespace/name, or "-" when the problem is not in one object
    field: str  # dotted path inside the object, or "-"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.object}: {self.field}: {self.message}"


class InputError(Exception):
    """The fabric's input is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def they(names: list[str], one: str, many: str) -> str:
    """`names` as the subject of a sentence, with the verb agreeing: "client imports", "central, west import"."""
    return f"{', '.join(names)} {one if len(names) == 1 else many}"
