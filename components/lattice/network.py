"""ServiceNetwork: a VPC Lattice service network (a Gateway is the service network of its name), its auth policy,
access log subscription, VPC associations, and its AWS RAM share with other accounts.

Used alone, its arguments are validated by the models `clusterfabric validate` uses (the Gateway's name rule, the
IAMAuthPolicy's and VpcAssociationPolicy's). Its URNs are release 0.1's (same token, name and children); the
fabric gives it release 0.2's as aliases (`ServiceNetwork.planned`). No `from __future__ import annotations`: the
component provider host reads these annotations (components/plugin).
"""

import re
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from ..component import Component
from ..model.errors import InputError, Problem
from ..model.lattice import API_VERSION, ORGANIZATION_ARN, UNIT_ARN, IAMAuthPolicy, VpcAssociationPolicy
from ..model.limits import name_problem
from ..model.validation import parse
from ..moved import Moved, moved_options

# Type tokens of what this module declares (release 0.2's aliases name them: components/moved.py).
NETWORK_TYPE = "aws:vpclattice/serviceNetwork:ServiceNetwork"
AUTH_POLICY_TYPE = "aws:vpclattice/authPolicy:AuthPolicy"
ACCESS_LOGS_TYPE = "aws:vpclattice/accessLogSubscription:AccessLogSubscription"
VPC_ASSOCIATION_TYPE = "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation"
PRINCIPAL = re.compile(r"\d{12}|" + ORGANIZATION_ARN[1:-1] + "|" + UNIT_ARN[1:-1])


class VpcAssociationArgs(TypedDict):
    vpc_id: str
    """The VPC that joins the network (a VPC is associated with one service network only)."""
    security_group_ids: NotRequired[list[str]]
    """Security groups of the association, 1-5 (sg- and 8 or 17 hex digits); none: no security groups."""


class ShareArgs(TypedDict):
    principals: list[str]
    """AWS RAM principals, at least one: account ids (12 digits), the Organization's ARN or OU ARNs (these two where
    sharing with AWS Organizations is enabled)."""
    allow_external_principals: NotRequired[bool]
    """Whether accounts outside the Organization may be principals; default false."""


class ServiceNetworkArgs(TypedDict):
    name: str
    """The service network's name: 3-63 characters of a-z, 0-9 and '-', not starting or ending with '-', no '--'."""
    auth_policy: NotRequired[str]
    """An IAM policy document (JSON with a Statement, 2-10000 characters, at most 10 KiB): auth type AWS_IAM.
    Absent: auth type NONE."""
    access_logs: NotRequired[str]
    """Where access logs go: an S3 bucket, CloudWatch Logs group or Firehose delivery stream ARN."""
    tags: NotRequired[dict[str, str]]
    """Tags of everything it declares."""
    vpc_associations: NotRequired[list[VpcAssociationArgs]]
    """VPCs that join the network."""
    share: NotRequired[ShareArgs]
    """Share the network with other accounts through AWS RAM; they join it by its ARN (`arn`)."""


@dataclass(frozen=True)
class ServiceNetworkPlan:
    """A service network: its arguments, and where release 0.2 declared what it holds (the fabric's networks)."""

    args: ServiceNetworkArgs
    moved: Moved | None = None


class ServiceNetwork(Component[ServiceNetworkPlan]):
    """A service network; `network_id` and `arn` are the network's. (Not `id`: a component's `id` is taken, in YAML
    `${network.id}` is the component's own, empty.)"""

    MODULE = "lattice"
    network_id: pulumi.Output[str]
    """The network's id (sn-...): what a route's gateway `network_id` takes."""
    arn: pulumi.Output[str]
    """The network's ARN."""
    share_arn: pulumi.Output[str] | None
    """Its RAM resource share's ARN (what an account invited to it accepts); None: not shared."""

    def __init__(self, name: str, args: ServiceNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        checked(name, args)  # refused before anything is registered
        self._make(name, ServiceNetworkPlan(args), opts)

    def _declare(self, name: str, plan: ServiceNetworkPlan) -> None:
        args, moved = plan.args, plan.moved
        network_name, tags = args["name"], args.get("tags", {})
        child = pulumi.ResourceOptions(parent=self)
        auth_policy, access_logs = args.get("auth_policy"), args.get("access_logs")
        self.network = aws.vpclattice.ServiceNetwork(
            name, name=network_name, auth_type="AWS_IAM" if auth_policy else "NONE", tags=tags,
            opts=moved_options(moved, child, (NETWORK_TYPE,), name))
        # Children of the component, not of the network: where release 0.1 had them (release 0.2's are aliases).
        if auth_policy:
            aws.vpclattice.AuthPolicy(
                f"{name}-auth", resource_identifier=self.network.arn, policy=auth_policy,
                opts=moved_options(moved, child, (NETWORK_TYPE, AUTH_POLICY_TYPE), f"{name}-auth"))
        if access_logs:
            aws.vpclattice.AccessLogSubscription(
                f"{name}-access-logs", resource_identifier=self.network.arn, destination_arn=access_logs, tags=tags,
                opts=moved_options(moved, child, (NETWORK_TYPE, ACCESS_LOGS_TYPE), f"{name}-access-logs"))
        for association in args.get("vpc_associations", []):
            vpc_association(f"{name}-{association['vpc_id']}", self.network.id, association["vpc_id"],
                            association.get("security_group_ids", []), tags, child)
        self.network_id, self.arn = self.network.id, self.network.arn
        self.share_arn = self._share(name, network_name, args["share"], tags, child) if "share" in args else None
        self.register_outputs({"network_id": self.network_id, "arn": self.arn,
                               **({"share_arn": self.share_arn} if self.share_arn is not None else {})})

    def _share(self, name: str, network_name: str, share: ShareArgs, tags: dict[str, str],
               child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The network's RAM share with `share`'s principals: only its owner shares it (RAM user guide)."""
        resource_share = aws.ram.ResourceShare(
            f"{name}-share", name=network_name, allow_external_principals=share.get("allow_external_principals", False),
            tags=tags, opts=child)
        aws.ram.ResourceAssociation(f"{name}-share-network", resource_arn=self.network.arn,
                                    resource_share_arn=resource_share.arn, opts=child)
        for principal in share["principals"]:
            # An ARN holds "::", which a resource name cannot: the account id, or the Organization's or OU's id.
            aws.ram.PrincipalAssociation(f"{name}-share-{principal.rsplit('/', 1)[-1]}", principal=principal,
                                         resource_share_arn=resource_share.arn, opts=child)
        return resource_share.arn


def checked(name: str, args: ServiceNetworkArgs) -> None:
    """InputError naming the component, the network and the field, with validate's messages."""
    where, obj = f"{ServiceNetwork.TOKEN} {name}", f"ServiceNetwork/{args['name']}"
    problem = name_problem("service network", args["name"])
    if problem:
        raise InputError([Problem(where, obj, "name", problem)])
    target = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": args["name"]}
    meta = {"name": args["name"], "namespace": "default"}
    if "auth_policy" in args:
        checked_auth_policy(ServiceNetwork.TOKEN, name, "ServiceNetwork", args["name"], None, args["auth_policy"])
    principals = args["share"]["principals"] if "share" in args else []
    for i, principal in enumerate(principals):
        if not PRINCIPAL.fullmatch(principal):
            raise InputError([Problem(where, obj, f"share.principals[{i}]", f"{principal!r} is no account id (12 "
                                      "digits), Organization ARN or OU ARN")])
    if "share" in args and not principals:
        raise InputError([Problem(where, obj, "share.principals", "a share needs at least one principal")])
    for association in args.get("vpc_associations", []):
        if association.get("security_group_ids"):
            parse(VpcAssociationPolicy, {"apiVersion": API_VERSION, "kind": "VpcAssociationPolicy", "metadata": meta,
                                         "spec": {"targetRef": target,
                                                  "securityGroupIds": association["security_group_ids"]}}, where, obj)


def checked_auth_policy(token: str, name: str, kind: str, target: str, namespace: str | None, policy: str) -> None:
    """An auth policy of a network or a route's service, checked as an IAMAuthPolicy on it is (InputError naming
    the component, the object and the field)."""
    obj = f"{kind}/{namespace}/{target}" if namespace else f"{kind}/{target}"
    target_kind = "Gateway" if kind == "ServiceNetwork" else kind
    parse(IAMAuthPolicy, {"apiVersion": API_VERSION, "kind": "IAMAuthPolicy",
                          "metadata": {"name": target, "namespace": namespace or "default"},
                          "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": target_kind,
                                                 "name": target}, "policy": policy}}, f"{token} {name}", obj)


def vpc_association(name: str, network_id: Any, vpc_id: str, security_group_ids: list[str], tags: dict[str, str],
                    opts: pulumi.ResourceOptions | None = None,
                    former: Any = None) -> aws.vpclattice.ServiceNetworkVpcAssociation:
    """A VPC joins a service network. A replacement is created after the old association is deleted: Lattice
    refuses a second association of the VPC. `former`: release 0.1's wrapper of it (components/moved.py)."""
    args: dict[str, Any] = {"service_network_identifier": network_id, "vpc_identifier": vpc_id, "tags": tags}
    if security_group_ids:
        args["security_group_ids"] = security_group_ids
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
    if former is not None:
        opts = former.options(opts, VPC_ASSOCIATION_TYPE, name)
    return aws.vpclattice.ServiceNetworkVpcAssociation(name, **args, opts=opts)
