"""Where a resource was declared by release 0.1, so upgrading never replaces it.

Release 0.1 wrapped every shared object in a ComponentResource of its own
(`clusterfabric:clusterlink:Export` around the Export CR, `clusterfabric:lattice:TargetGroup`
around the target group and its attachments, and so on). Each wrapper cost one
more registration per object: 1.6x the time of declaring the resources alone
(bench/FINDINGS.md). Since 0.2 the object is its primary resource, and that
resource's helpers (attachments, listeners, rules) are parented to it. Each
moved resource carries an alias naming its URN under the old wrapper, so the
engine takes it for the same resource; only the wrappers, which own nothing, go.

The alias is the old URN written out as a string wherever it can be known before
registration: a string costs the SDK a few Outputs, where an alias computed
from the parent's URN costs a dozen (about 0.2x of the program's time under
mocks, measured). That needs the type token of each moved resource (the
`*_TYPE` constants beside their declarations) and the URN type of the parent
(`urn_type`, which our components keep).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


def urn_type(token: str, parent: pulumi.Resource | None) -> str | None:
    """The type part of the URN of a resource of type `token` under `parent`, when known before registration:
    at the stack's root, or under one of our components (which keep theirs as `urn_type`); else None."""
    if parent is None:
        return token
    above = getattr(parent, "urn_type", None)
    return f"{above}${token}" if above else None


def former_child(parent: pulumi.Resource | None, resource_type: str, name: str) -> pulumi.Alias | str:
    """The alias of a resource (`resource_type`, `name`) formerly declared directly under `parent`: the URN as a
    string where the parent's URN type is known, else an alias the SDK works out from the parent."""
    above = getattr(parent, "urn_type", None) if parent is not None else ""
    if above is None:
        return pulumi.Alias(name=name, parent=parent)
    qualified = f"{above}${resource_type}" if above else resource_type
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{name}"


@dataclass(frozen=True)
class FormerWrapper:
    """Release 0.1's component `component_type` named `component_name` under `parent` (None: the stack)."""

    component_type: str
    component_name: str
    parent: pulumi.Resource | None

    def alias(self, resource_type: str, name: str) -> pulumi.Alias | str:
        """The alias of the resource (`resource_type`, `name`) that this wrapper held."""
        above = urn_type(self.component_type, self.parent)
        if above is None:  # under a parent of an embedding program: the SDK works the URN out
            former = pulumi.create_urn(self.component_name, self.component_type, parent=self.parent)
            return pulumi.Alias(name=name, parent=former)
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{above}${resource_type}::{name}"

    def options(self, opts: pulumi.ResourceOptions | None, resource_type: str, name: str) -> pulumi.ResourceOptions:
        """`opts` with the alias of the resource (`resource_type`, `name`) added."""
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[self.alias(resource_type, name)]))
