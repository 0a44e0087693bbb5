"""Turning pydantic's validation errors into problems that name file, object and field."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .json_values import DESCEND, rebuilt

M = TypeVar("M", bound=BaseModel)
# A check on the whole object may say which field it is about: "metadata.annotations: message" (fabric.yaml's:
# "lattice.serviceNetworks[0].owner: message"); a check on a part of it, which field of that part: "timeoutSeconds:
# message".
_FIELD_PREFIX = re.compile(r"^((?:metadata|spec|lattice)(?:\.[\w/-]+|\[\d+\])*): (.+)$", re.S)
_PART_FIELD_PREFIX = re.compile(r"^([a-z]\w*(?:\.[a-z]\w*|\[\d+\])*): (.+)$", re.S)


def field_path(loc: tuple[int | str, ...]) -> str:
    """`("spec", "ports", 0, "port")` -> `spec.ports[0].port`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "-"


def parse(model: type[M], data: Any, file: str, obj: str) -> M:
    """Validate `data` as `model`, raising InputError with one problem per bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InputError([_problem(e, file, obj) for e in err.errors(include_url=False)]) from None


def _problem(error: dict[str, Any], file: str, obj: str) -> Problem:
    path, message = field_path(error["loc"]), _message(error)
    prefixed = _FIELD_PREFIX.match(message)
    part = _PART_FIELD_PREFIX.match(message)
    if prefixed and error["loc"] in ((), ("spec",), ("metadata",)):
        path, message = prefixed.group(1), prefixed.group(2)
    elif part and error["loc"]:
        path, message = f"{path}.{part.group(1)}", part.group(2)
    return Problem(file, obj, path, message)


def _message(error: dict[str, Any]) -> str:
    message = error["msg"]
    # pydantic prefixes the messages of custom validators; the field already says where.
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling)"
    if error["type"] in ("int_type", "bool_type") and isinstance(error.get("input"), str):
        what = "number" if error["type"] == "int_type" else "true or false"
        return (f"{error['input']!r} is a string: write the {what} without quotes (Kubernetes refuses a quoted "
                f"value where its schema says {'integer' if what == 'number' else 'boolean'})")
    return message


def whole_numbers(value: Any) -> Any:
    """`value` with every whole float as an int. Pulumi carries every number as a float (protobuf): a port of 8080
    comes from a YAML or TypeScript program as 8080.0, where the models' integer fields are strict (a manifest's
    8080.0 is refused); 80.5 stays a float. (clusterfabric/offline/mocked.py keeps its own: it imports nothing of the
    program, whichever release's program it mocks.)"""
    return rebuilt(value, lambda v: int(v) if isinstance(v, float) and v.is_integer() else DESCEND)
