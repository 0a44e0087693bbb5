"""Where a resource was declared by release 0.1, so upgrading never replaces it.

Release 0.1 wrapped every shared object in a ComponentResource of its own
(`clusterfabric:clusterlink:Export` around the Export CR, `clusterfabric:lattice:TargetGroup`
around the target group and its attachments, and so on). Each wrapper cost one
more registration per object: 1.6x the time of declaring the resources alone
(bench/FINDINGS.md). Since 0.2 the object is its primary resource, and that
resource's helpers (attachments, listeners, rules) are parented to it. The alias
names the resource's URN under the old wrapper, so the engine takes it for the
same resource; only the wrappers, which own nothing, are deleted.
"""

from __future__ import annotations

import pulumi


def formerly_in(component_type: str, component_name: str, parent: pulumi.Resource | None,
                name: str | None = None) -> pulumi.Alias:
    """The alias of a resource that release 0.1 declared (as `name`, default its current name) inside the
    component `component_type` named `component_name`, a child of `parent` (None: the stack)."""
    former_parent = pulumi.create_urn(component_name, component_type, parent=parent)
    return pulumi.Alias(parent=former_parent) if name is None else pulumi.Alias(name=name, parent=former_parent)


def with_alias(opts: pulumi.ResourceOptions | None, alias: pulumi.Alias) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[alias]))
