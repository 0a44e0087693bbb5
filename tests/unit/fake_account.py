"""One account and Region of the stateful Lattice fake, and what a stack creates there, in the inputs Pulumi sends:
the fake's tests call the API through it."""

from __future__ import annotations

from typing import Any

from clusterfabric.offline.lattice_fake import LatticeFake
from clusterfabric.offline.mocked import mocked_resource

SCOPE = ("111122223333", "us-west-2")
LATTICE = "aws:vpclattice/"
RAM = "aws:ram/"
VPC = "vpc-0a1b2c3d4e5f60001"


class Account:
    """One account and Region of the fake, and what a stack creates there, in the inputs Pulumi sends."""

    def __init__(self, lattice: LatticeFake | None = None, scope=SCOPE, stack: str = "cluster1"):
        self.lattice, self.scope, self.stack = lattice or LatticeFake(), scope, stack
        self.refusals: list[str] = []

    def create(self, typ: str, resource: str, **inputs: Any) -> dict[str, Any]:
        """The created resource's id and ARN (as the mocks give them); a refusal is kept in `refusals`. `typ`: a
        Lattice type (`service:Service`), or any with its module (`aws:ram/...`)."""
        typ = typ if typ.startswith("aws:") else f"{LATTICE}{typ}"
        resource_id, outputs = mocked_resource(typ, resource, inputs, self.stack, self.scope[1], self.scope[0])
        refusal = self.lattice.apply(self.stack, self.scope, typ, resource, resource_id, outputs.get("arn"), inputs)
        if refusal:
            self.refusals.append(refusal)
        return {"id": resource_id, "arn": outputs.get("arn")}

    def refused(self) -> str:
        """The one refusal so far, without the stack and resource that got it."""
        assert len(self.refusals) == 1, f"expected the API to refuse one create, it refused {self.refusals}"
        return self.refusals[0].split("): ", 1)[1]

    def network(self, name: str = "fabric-network") -> dict[str, Any]:
        return self.create("serviceNetwork:ServiceNetwork", name, name=name, authType="NONE")

    def service(self, name: str = "checkout-default", **more: Any) -> dict[str, Any]:
        return self.create("service:Service", name, name=name, authType="NONE", **more)

    def target_group(self, name: str = "k8s-checkout", protocol: str = "HTTP", **config: Any) -> dict[str, Any]:
        config = {"port": 80, "protocol": protocol, "vpcIdentifier": VPC,
                  **({"protocolVersion": "HTTP1"} if protocol != "TCP" else {}), **config}
        kind = config.pop("type", "IP")
        return self.create("targetGroup:TargetGroup", name, name=name, type=kind, config=config)

    def listener(self, service: dict, name: str = "checkout-default-80-http", port: int = 80, protocol: str = "HTTP",
                 forward: list[dict] | None = None) -> dict[str, Any]:
        action = ({"forwards": [{"targetGroups": [{"targetGroupIdentifier": g["arn"], "weight": 1} for g in forward]}]}
                  if forward is not None else {"fixedResponse": {"statusCode": 404}})
        return self.create("listener:Listener", name, name=name, protocol=protocol, port=port,
                           serviceIdentifier=service["id"], defaultAction=action)

    def rule(self, service: dict, listener: dict, name: str = "checkout-r1", priority: int = 1,
             forward: list[dict] | None = None, weight: int = 1, match: dict | None = None) -> dict[str, Any]:
        groups = [{"targetGroupIdentifier": g["arn"], "weight": weight} for g in forward or []]
        return self.create("listenerRule:ListenerRule", name, name=name, priority=priority,
                           serviceIdentifier=service["id"], listenerIdentifier=listener["id"],
                           match={"httpMatch": match or {"pathMatch": {"caseSensitive": True,
                                                                       "match": {"prefix": "/"}}}},
                           action={"forward": {"targetGroups": groups}})

    def associate(self, network: dict, vpc: str = VPC, groups: list[str] | None = None,
                  by: str = "id") -> dict[str, Any]:
        """`vpc` joins `network`, named by its id or (`by="arn"`, as across accounts) its ARN."""
        return self.create("serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation", f"{vpc}-{network['id']}",
                           serviceNetworkIdentifier=network[by], vpcIdentifier=vpc,
                           **({"securityGroupIds": groups} if groups else {}))

    def associate_service(self, service: dict, network: dict, name: str = "checkout-fabric-network") -> dict[str, Any]:
        return self.create("serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation", name,
                           serviceIdentifier=service["arn"], serviceNetworkIdentifier=network["arn"])

    # --- RAM: this account shares what it owns, or accepts what is shared with it ---

    def share(self, resource: dict, *principals: str, external: bool = False, name: str = "fabric-network") -> dict:
        """A resource share of `resource` with `principals` (account ids, Organization or OU ARNs)."""
        share = self.create(f"{RAM}resourceShare:ResourceShare", name, name=name, allowExternalPrincipals=external)
        self.create(f"{RAM}resourceAssociation:ResourceAssociation", f"{name}-resource", resourceArn=resource["arn"],
                    resourceShareArn=share["arn"])
        for principal in principals:
            self.create(f"{RAM}principalAssociation:PrincipalAssociation", f"{name}-{principal}", principal=principal,
                        resourceShareArn=share["arn"])
        return share

    def accept(self, share: dict, name: str = "fabric-network-accepted") -> dict[str, Any]:
        return self.create(f"{RAM}resourceShareAccepter:ResourceShareAccepter", name, shareArn=share["arn"])
