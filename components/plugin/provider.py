"""The provider serving the package: the SDK's component provider, with two things it does not do itself.

- Tokens in a module: the SDK's host puts every component in `index`; ours go in the module of the
  fabric's other components of their kind (`clusterfabric:clusterlink:Export`, `clusterfabric:lattice:
  ServiceExport`), so a fabric program built from them keeps the tokens this package gives them. A
  component's module is `module`, else the `MODULE` of the Python module defining it; its types go with it.
- Input errors as such: a component refusing its args (components.model's InputError) is reported to
  the engine as bad input properties (validate's lines, then each argument's problem) instead of an
  error with a traceback.
"""

import re
import sys
from typing import Any, Optional

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider import ConstructResult
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from components.model.errors import InputError


class Package(ComponentProvider):
    def __init__(self, components: list[type[pulumi.ComponentResource]], name: str, module: str | None = None) -> None:
        super().__init__(components, name)
        self._modules = {c.__name__: module or sys.modules[c.__module__].MODULE for c in components}
        # A type (a TypedDict of the args) is defined beside its component: it goes in that component's module.
        modules = {n: self._modules[c.__name__] for c in components for n in vars(sys.modules[c.__module__])}
        modules.update(self._modules)
        # Tokens are the only place `<name>:index:` occurs in the schema (keys and `$ref`s).
        self.schema = re.sub(rf"\b{re.escape(name)}:index:(\w+)",
                             lambda m: f"{name}:{modules[m[1]]}:{m[1]}", self.schema or "")

    def validate_resource_type(self, pkg_name: str, resource_type: str) -> None:  # type: ignore[override]
        package, module, component = (resource_type.split(":") + ["", "", ""])[:3]
        if package != pkg_name or not component or self._modules.get(component) != module:
            raise ValueError(f"invalid resource type {resource_type!r}: expected {pkg_name}:<module>:<component> "
                             f"of one of {sorted(f'{m}:{c}' for c, m in self._modules.items())}")

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


def argument_path(field: str) -> str:
    """The component argument a CR field comes from: `spec.port` -> `port`, `metadata.name` -> `name`."""
    for prefix in ("spec.", "metadata."):
        if field.startswith(prefix):
            return field.removeprefix(prefix)
    return field
