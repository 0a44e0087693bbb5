"""The service networks the fabric's Lattice clusters join: in which account and Region each is, which stack creates
it (or that it exists already), with whom its owner shares it through AWS RAM, and which stack accepts each
invitation.

A Gateway is the service network of its name. By default each account and Region has its own network of a name,
created by the cluster that lists it in its `serviceNetworks`, else by the first in fabric.yaml that declares the
Gateway. A network listed under `lattice.serviceNetworks` at the top of fabric.yaml is one network for every
account of its Region: created by its `owner` (default: that first cluster) or referenced by `arn`. Clusters of
other accounts join it by ARN ("You must use an ARN if the resources are in different accounts"), once RAM shares it
with them: only the owner shares (its stack creates the share), with the accounts that use the network unless
`sharedWith` says whom; where no Organization with sharing enabled holds both accounts, the first cluster of the
other account in fabric.yaml accepts the invitation, once for its account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from .errors import Problem
from .fabric_yaml import ClusterSpec, FabricSpec
from .gateway import Gateway
from .lattice import ORGANIZATION, ServiceNetworkSettings
from .lattice_imports import Scope, scope_of
from .load import ClusterManifests, ref

Concern = tuple[Problem, frozenset[str]]
"""A problem, and the clusters whose stacks it stops."""


@dataclass(frozen=True)
class Use:
    """A cluster's stack joining a network: its VPC (through its Gateway of that name), or a service it declares
    for another cluster's route (the network of that route's Gateway)."""

    cluster: str
    account: str
    scope: Scope
    """The account and Region where the Gateway's name is looked up: the cluster's, or the route's cluster's."""
    gateway: str
    by: Literal["vpc", "service"]
    file: str
    object: str

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.object, "metadata.name" if self.by == "vpc" else "spec.parentRefs", message)


@dataclass(frozen=True)
class NetworkSpec:
    """A service network the fabric's clusters join."""

    name: str
    scope: Scope
    """Its account and Region."""
    owner: str | None
    """The cluster whose stack creates it; None: it exists already (`arn`)."""
    arn: str | None = None
    index: int | None = None
    """Its entry in fabric.yaml's `lattice.serviceNetworks` (None: a network of one account, as by default)."""

    @property
    def key(self) -> tuple[Scope, str]:
        return self.scope, self.name

    def by_arn(self, account: str) -> bool:
        """Whether a caller of `account` names it by ARN: from another account, or when it exists already."""
        return self.arn is not None or account != self.scope[0]

    @property
    def field(self) -> str:
        return f"lattice.serviceNetworks[{self.index}]"


@dataclass(frozen=True)
class Share:
    """A network's AWS RAM share, made by its owner's stack."""

    principals: tuple[str, ...]
    """Account ids, the Organization's or OUs' ARNs."""
    allow_external: bool
    """Whether accounts outside the Organization may be principals."""


@dataclass(frozen=True)
class Acceptance:
    """The invitation to a network's share, accepted by one cluster's stack for its account."""

    cluster: str
    account: str
    network: NetworkSpec


@dataclass
class Networks:
    """Which network each cluster's Gateways and hosted services join, its share, and who accepts which."""

    joined: dict[tuple[Scope, str], NetworkSpec] = field(default_factory=dict)
    """(a cluster's account and Region, Gateway name) -> the network its Gateways of that name join."""
    uses: list[Use] = field(default_factory=list)
    shares: dict[tuple[Scope, str], Share] = field(default_factory=dict)
    """Network (its key) -> its share, for the networks a stack of the fabric creates and shares."""
    acceptances: list[Acceptance] = field(default_factory=list)
    problems: list[Concern] = field(default_factory=list)

    def of(self, scope: Scope, gateway: str) -> NetworkSpec:
        return self.joined[(scope, gateway)]

    def created_by(self, cluster: str) -> list[NetworkSpec]:
        return sorted({n.key: n for n in self.joined.values() if n.owner == cluster}.values(), key=lambda n: n.name)

    def joined_by(self, cluster: str) -> list[NetworkSpec]:
        """The networks `cluster`'s stack joins: its VPC through its Gateways, and the services it declares."""
        joined = (self.of(u.scope, u.gateway) for u in self.uses if u.cluster == cluster)
        return list({n.key: n for n in joined}.values())

    def accepted_by(self, cluster: str) -> list[NetworkSpec]:
        return [a.network for a in self.acceptances if a.cluster == cluster]

    def needed_by(self, cluster: str) -> set[str]:
        """The stacks `cluster`'s stack waits for: the owners of the networks it joins, and the stacks accepting
        their shares for its account (only then may it use them)."""
        found: set[str | None] = set()
        for use in (u for u in self.uses if u.cluster == cluster):
            network = self.of(use.scope, use.gateway)
            found |= {network.owner} | {a.cluster for a in self.acceptances
                                        if a.network.key == network.key and a.account == use.account}
        return {s for s in found if s not in (None, cluster)}  # type: ignore[misc]

    def shaping(self, owner: str) -> set[str]:
        """The clusters of other accounts joining the networks `owner`'s stack creates: by default its shares go
        to their accounts, so their manifests shape its stack (a route newly hosted in an account adds a
        principal)."""
        return {u.cluster for u in self.uses if (network := self.of(u.scope, u.gateway)).owner == owner
                and u.account != network.scope[0]}


def service_networks(spec: FabricSpec, manifests: dict[str, ClusterManifests], hosted: Iterable[Use],
                     fabric_file: str) -> Networks:
    """The networks of the fabric's Lattice clusters. `hosted`: the networks the services a cluster declares for
    another cluster's routes join (components.model.lattice_fabric decides where a route's service goes)."""
    order = [c.name for c in spec.clusters]
    networks = Networks(uses=sorted([*_gateway_uses(spec, manifests), *hosted], key=lambda u: order.index(u.cluster)))
    wanted = [(u.scope, u.gateway) for u in networks.uses] + _created(spec)
    for scope, name in wanted:
        if (scope, name) not in networks.joined:
            networks.joined[(scope, name)] = _network(spec, manifests, scope, name)
    for network in {n.key: n for n in networks.joined.values()}.values():
        if network.owner is not None:  # one that exists is shared (or not) outside the fabric
            _share(spec, networks, network, fabric_file)
    networks.problems += _claims(spec, fabric_file)
    return networks


def _lattice(spec: FabricSpec) -> list[ClusterSpec]:
    return [c for c in spec.clusters if c.dataplane == "lattice"]


def _gateway_uses(spec: FabricSpec, manifests: dict[str, ClusterManifests]) -> list[Use]:
    """Each Lattice cluster's Gateways: its VPC joins the network of each."""
    return [Use(c.name, scope_of(c)[0], scope_of(c), g.metadata.name, "vpc", manifests[c.name].file_of(g), ref(g))
            for c in _lattice(spec) for g in manifests[c.name].of_kind(Gateway)]


def _created(spec: FabricSpec) -> list[tuple[Scope, str]]:
    """The networks fabric.yaml says a stack creates, whether a Gateway joins them yet or not."""
    listed = [(scope_of(c), name) for c in _lattice(spec) for name in c.lattice.serviceNetworks]  # type: ignore[union-attr]
    owned = [(scope_of(spec.cluster(n.owner)), n.name) for n in spec.lattice.serviceNetworks if n.owner]
    return listed + owned


def _declared(spec: FabricSpec, name: str) -> tuple[int, ServiceNetworkSettings] | None:
    return next(((i, n) for i, n in enumerate(spec.lattice.serviceNetworks) if n.name == name), None)


def _creator(spec: FabricSpec, manifests: dict[str, ClusterManifests], name: str,
             within: Scope | None) -> ClusterSpec | None:
    """The cluster whose stack creates network `name` (in the account and Region `within`, or anywhere): the one
    listing it in its `serviceNetworks`, else the first in fabric.yaml that declares its Gateway."""
    clusters = [c for c in _lattice(spec) if within in (None, scope_of(c))]
    listing = next((c for c in clusters if name in c.lattice.serviceNetworks), None)  # type: ignore[union-attr]
    return listing or next((c for c in clusters if any(g.metadata.name == name
                                                       for g in manifests[c.name].of_kind(Gateway))), None)


def _network(spec: FabricSpec, manifests: dict[str, ClusterManifests], scope: Scope, name: str) -> NetworkSpec:
    """The network a Gateway `name` of the account and Region `scope` joins: the one fabric.yaml lists for its
    Region, else that account and Region's own."""
    declared = _declared(spec, name)
    listed = _listed_network(spec, manifests, *declared) if declared else None
    if listed is not None and listed.scope[1] == scope[1]:
        return listed
    owner = _creator(spec, manifests, name, scope)
    assert owner is not None, f"no cluster of {scope} creates {name}: none declares its Gateway or lists it"
    return NetworkSpec(name, scope, owner.name)


def _listed_network(spec: FabricSpec, manifests: dict[str, ClusterManifests], index: int,
                    settings: ServiceNetworkSettings) -> NetworkSpec | None:
    """The network of a `lattice.serviceNetworks` entry: the one that exists, or the one its owner creates (None
    when no cluster would)."""
    if settings.arn:
        return NetworkSpec(settings.name, (settings.account, settings.region), None, settings.arn,  # type: ignore[arg-type]
                           index)
    owner = spec.cluster(settings.owner) if settings.owner else _creator(spec, manifests, settings.name, None)
    return NetworkSpec(settings.name, scope_of(owner), owner.name, index=index) if owner else None


def _share(spec: FabricSpec, networks: Networks, network: NetworkSpec, fabric_file: str) -> None:
    """Whom the owner shares the network with, who accepts each invitation, and the uses RAM would not allow."""
    users = [u for u in networks.uses if networks.of(u.scope, u.gateway).key == network.key
             and u.account != network.scope[0]]
    settings = spec.lattice.serviceNetworks[network.index] if network.index is not None else None
    share = Share(_principals(spec, settings, users), settings.allowExternalPrincipals) if settings else None
    if share is not None and share.principals:
        networks.shares[network.key] = share
        networks.problems += _principal_problems(spec, network, share, fabric_file)
    accepting: set[str] = set()
    for use in users:
        reach = _reach(spec, network, share, use.account)
        if reach is None:
            networks.problems.append((use.problem(_not_shared(network, share, use)),
                                      frozenset({use.cluster, network.owner})))  # type: ignore[arg-type]
        elif reach == "invitation" and use.account not in accepting:
            accepting.add(use.account)
            networks.acceptances.append(Acceptance(use.cluster, use.account, network))


def _principals(spec: FabricSpec, settings: ServiceNetworkSettings, users: list[Use]) -> tuple[str, ...]:
    """`sharedWith` with `organization` spelled as its ARN; default: the accounts of the other clusters using it."""
    if settings.sharedWith is None:
        return tuple(sorted({u.account for u in users}))
    organization = spec.lattice.organization
    return tuple(organization.arn if p == ORGANIZATION and organization else p for p in settings.sharedWith)


def _reach(spec: FabricSpec, network: NetworkSpec, share: Share | None, account: str) -> str | None:
    """How the share reaches `account`: "automatic" inside the Organization with sharing enabled, "invitation" to
    accept, or None (it does not)."""
    organization = spec.lattice.organization
    inside = organization is not None and {network.scope[0], account} <= set(organization.accounts)
    for principal in share.principals if share else ():
        unit = organization.unit(principal) if organization else None
        if principal == account:
            return "automatic" if inside else "invitation"
        if inside and (principal == organization.arn or (unit and account in unit.accounts)):  # type: ignore[union-attr]
            return "automatic"
    return None


def _not_shared(network: NetworkSpec, share: Share | None, use: Use) -> str:
    joins = (f"its VPC joins service network {network.name!r}" if use.by == "vpc" else
             f"its Lattice service is declared in account {use.account}, by cluster {use.cluster!r} where its target "
             f"groups are, and joins service network {network.name!r}")
    if share is None:
        return (f"{joins} of account {network.scope[0]}, created by {network.owner!r} and shared with no other "
                "account: a service or VPC of another account joins a network shared with it through AWS RAM; list "
                "the network under lattice.serviceNetworks in fabric.yaml so that its owner shares it")
    return (f"{joins}, which {network.owner!r} shares with {', '.join(share.principals)} only, not with account "
            f"{use.account} (AWS RAM): add it to sharedWith, or remove sharedWith")


def _principal_problems(spec: FabricSpec, network: NetworkSpec, share: Share, fabric_file: str) -> list[Concern]:
    """What RAM refuses of a share's principals: the Organization or an OU from an account outside it, and an
    account outside the Organization unless the share allows external principals."""
    organization = spec.lattice.organization
    inside = organization is not None and network.scope[0] in organization.accounts
    written = spec.lattice.serviceNetworks[network.index].sharedWith is not None  # type: ignore[index]
    found = []
    for i, principal in enumerate(share.principals):
        if principal.startswith("arn:") and not inside:
            message = (f"{principal}: the owner's account {network.scope[0]} is not in lattice.organization: RAM "
                       "shares with an Organization or OU only from inside it")
        elif not principal.startswith("arn:") and inside and not share.allow_external \
                and principal not in organization.accounts:  # type: ignore[union-attr]
            message = (f"account {principal} is outside lattice.organization: RAM adds it to the share only with "
                       "allowExternalPrincipals: true")
        else:
            continue
        where = f"{network.field}.sharedWith[{i}]" if written else f"{network.field}.allowExternalPrincipals"
        found.append((Problem(fabric_file, f"ServiceNetwork/-/{network.name}", where, message),
                      frozenset({network.owner})))
    return found  # type: ignore[return-value]


def _claims(spec: FabricSpec, fabric_file: str) -> list[Concern]:
    """A cluster listing in its `serviceNetworks` a network of its Region that fabric.yaml gives to another owner,
    or that exists already in its account."""
    found = []
    for cluster in _lattice(spec):
        for name in cluster.lattice.serviceNetworks:  # type: ignore[union-attr]
            why = _claimed_elsewhere(spec, cluster, name)
            if why:
                found.append((Problem(fabric_file, f"Cluster/-/{cluster.name}", "lattice.serviceNetworks",
                                      f"service network {name!r} {why}: remove it here"), frozenset({cluster.name})))
    return found


def _claimed_elsewhere(spec: FabricSpec, cluster: ClusterSpec, name: str) -> str | None:
    declared = _declared(spec, name)
    if declared is None:
        return None
    index, settings = declared
    scope = scope_of(cluster)
    if settings.arn and (settings.account, settings.region) == scope:
        return f"exists already ({settings.arn}): CreateServiceNetwork would answer ConflictException"
    if settings.owner not in (None, cluster.name) and scope_of(spec.cluster(settings.owner))[1] == scope[1]:  # type: ignore[arg-type]
        return f"is created by {settings.owner!r} (lattice.serviceNetworks[{index}])"
    return None
