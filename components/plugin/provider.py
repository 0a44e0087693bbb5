"""The provider serving the package: the SDK's component provider, with three things it does not do itself.

- Tokens in modules: the SDK's host puts every component and type in `index`; ours go in the module of the
  fabric's components of their kind (`clusterfabric:clusterlink:Export`, `clusterfabric:lattice:...`), the
  tokens the fabric's own program gives them. A type goes in the module of the components that use it.
- Go input types for every object type: the host marks every argument plain, and pulumi/pkg's Go generator
  (v3.259.0) types a plain list or map of objects (a ServiceExport's `exportedPorts`, an Import's `sources`) with
  the object's input struct (`[]ExportedPortArgsArgs`) while it emits that struct only for a type some argument
  takes whole or as an input: the SDK did not compile (`undefined: ExportedPortArgsArgs`). The schema asks the Go
  generator for every type's input types (`language.go.generateExtraInputTypes`); the arguments stay plain.
- Input errors as such: a component refusing its args (components.model's InputError) is reported to
  the engine as bad input properties (validate's lines, then each argument's problem) instead of an
  error with a traceback.
"""

import json
from typing import Any, Optional

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from ..model.errors import InputError
from ..model.json_values import DESCEND, rebuilt


class Package(ComponentProvider):
    def __init__(self, name: str, modules: dict[str, list[type[pulumi.ComponentResource]]]) -> None:
        """The package `name` serving the components of each module of `modules` (module -> classes); class
        names are unique across modules, as the SDK's host needs."""
        super().__init__([c for classes in modules.values() for c in classes], name)
        self._module = {c.__name__: module for module, classes in modules.items() for c in classes}
        schema = json.loads(self.schema or "{}")
        self._module |= _type_modules(name, schema, self._module)
        schema.setdefault("language", {}).setdefault("go", {})["generateExtraInputTypes"] = True
        self.schema = json.dumps(_retokened(schema, f"{name}:index:", lambda n: f"{name}:{self._module[n]}:{n}"))

    def validate_resource_type(self, pkg_name: str, resource_type: str) -> None:  # type: ignore[override]
        package, module, component = (resource_type.split(":") + ["", "", ""])[:3]
        if package != pkg_name or not component or self._module.get(component) != module:
            raise ValueError(f"invalid resource type {resource_type!r}: not a component of package {pkg_name}")

    def construct(self, name: str, resource_type: str, inputs: Any,
                  options: Optional[pulumi.ResourceOptions] = None) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as err:
            if not isinstance(err.inner, InputError):
                raise
            problems = err.inner.problems
            raise InputPropertiesError(str(err.inner), [
                {"property_path": argument_path(p.field), "reason": p.message} for p in problems]) from None


def _refs(value: Any, prefix: str) -> set[str]:
    """Names of the types `value` (a piece of schema) refers to."""
    if isinstance(value, dict):
        ref = value.get("$ref", "")
        found = {ref.removeprefix(f"#/types/{prefix}")} if ref.startswith(f"#/types/{prefix}") else set()
        return found.union(*(_refs(v, prefix) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v, prefix) for v in value))
    return set()


def _type_modules(name: str, schema: dict[str, Any], components: dict[str, str]) -> dict[str, str]:
    """Type name -> the module of the components that use it, directly or through other types."""
    prefix = f"{name}:index:"
    types = {t.removeprefix(prefix): body for t, body in schema.get("types", {}).items()}
    modules: dict[str, str] = {}
    for token, resource in schema.get("resources", {}).items():
        module = components[token.removeprefix(prefix)]
        pending = list(_refs(resource, prefix))
        while pending:
            type_name = pending.pop()
            if modules.setdefault(type_name, module) != module:
                raise ValueError(f"type {type_name} is used by components of modules {modules[type_name]} and "
                                 f"{module}: give each module its own")
            pending += [t for t in _refs(types.get(type_name, {}), prefix) if t not in modules]
    return modules


def _retokened(value: Any, prefix: str, token: Any) -> Any:
    """`value` (a piece of schema) with each `prefix<Name>` token, as a key or in a `$ref`, made `token(Name)`."""
    return rebuilt(value, lambda v: _retoken(v, prefix, token) if isinstance(v, str) else DESCEND,
                   key=lambda k: _retoken(k, prefix, token))


def _retoken(text: str, prefix: str, token: Any) -> str:
    for start in ("", "#/types/"):
        if text.startswith(start + prefix):
            return start + token(text.removeprefix(start + prefix))
    return text


def argument_path(field: str) -> str:
    """The component argument a CR field comes from: `spec.port` -> `port`, `metadata.name` -> `name`; or a
    field of the cluster's Lattice settings: `lattice.vpcId` -> `vpcId` (a ServiceExport's argument)."""
    for prefix in ("spec.", "metadata.", "lattice."):
        if field.startswith(prefix):
            return field.removeprefix(prefix)
    return field
