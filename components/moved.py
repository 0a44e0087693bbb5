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

Since the public components (issue 21: ServiceNetwork, ServiceExport, HTTPRoute...) the Lattice cluster
declares through them again; what release 0.2 declared directly under the Lattice cluster is aliased to that
URN as well (`Moved`). A network is back at release 0.1's URNs (same token, names and children).
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


def urn(urn_type_: str, name: str) -> str:
    """The URN of resource `name` whose URN type (its ancestors' types and its own) is `urn_type_`."""
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{urn_type_}::{name}"


@dataclass(frozen=True)
class Moved:
    """Where the releases before the public components declared what a component now holds: release 0.2 directly
    under the Lattice cluster component (`cluster_type`, its URN type), release 0.1 under `wrapper` (None: the
    component's URNs are 0.1's already, or what it holds was replaced by design)."""

    cluster_type: str | None
    """None: the Lattice cluster is under a parent of an embedding program (unknown URN type): no 0.2 alias."""
    wrapper: FormerWrapper | None = None

    def aliases(self, chain: tuple[str, ...], name: str) -> list[pulumi.Alias | str]:
        """The former URNs of resource `name` of type `chain[-1]`, below resources of types `chain[:-1]`."""
        found: list[pulumi.Alias | str] = []
        if self.cluster_type is not None:
            found.append(urn("$".join((self.cluster_type, *chain)), name))
        if self.wrapper is not None:
            found.append(self.wrapper.alias(chain[-1], name))
        return found

    def options(self, opts: pulumi.ResourceOptions, chain: tuple[str, ...], name: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=self.aliases(chain, name)))


def moved_options(moved: Moved | None, opts: pulumi.ResourceOptions, chain: tuple[str, ...],
                  name: str) -> pulumi.ResourceOptions:
    """`opts`, with the former URNs of the resource when it moved (`moved`), else as they are."""
    return moved.options(opts, chain, name) if moved is not None else opts
