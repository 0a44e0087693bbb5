"""The one idiom of the public components (docs/components.md): two ways to make one, one way to declare it.

- `Component(name, args, opts)`, a program's: `args` are the component's typed arguments (a TypedDict named
  `<Component>Args`, which the component provider host reads for the package's schema), validated into the
  component's plan (a `*Plan`) before anything is registered.
- `Component.planned(name, plan, opts)`, the fabric's: the plan the fabric made from what it validated already
  (so not validated twice), with the URNs earlier releases gave what it holds (components/moved.py).

Either way the component is registered as `TOKEN` and `_declare` declares what the plan holds. Nothing here is
annotated: the provider host would read an annotation as an output of every component.
"""

from typing import Any, Generic, Self, TypeVar

import pulumi

PACKAGE = "clusterfabric"
PlanT = TypeVar("PlanT")


class Component(pulumi.ComponentResource, Generic[PlanT]):
    """A public component whose plan is a `PlanT`."""

    MODULE = ""
    """The module of its type token, set by each module's components."""
    TOKEN = ""
    """Its type token, `clusterfabric:<MODULE>:<class name>`: the token the component package serves it under too
    (components/plugin), and part of the URN of the component and of everything under it."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.TOKEN = f"{PACKAGE}:{cls.MODULE}:{cls.__name__}"

    @classmethod
    def planned(cls, name: str, plan: PlanT, opts: pulumi.ResourceOptions | None = None) -> Self:
        """The component of a plan the fabric made."""
        component = cls.__new__(cls)  # not cls(...): `__init__` takes a program's args, to validate them
        component._make(name, plan, opts)
        return component

    def _make(self, name: str, plan: PlanT, opts: pulumi.ResourceOptions | None) -> None:
        pulumi.ComponentResource.__init__(self, self.TOKEN, name, None, opts)
        self._declare(name, plan)

    def _declare(self, name: str, plan: PlanT) -> None:
        """Declares what `plan` holds under this component, and registers its outputs."""
        raise NotImplementedError


def unknown() -> pulumi.Output[Any]:
    """A value known only once `up` makes it: what a preview shows for an output of a resource still to be
    created. Made in an apply (it needs the program's event loop)."""
    async def value(v: Any) -> Any:
        return v

    return pulumi.Output(set(), value(None), value(False))
