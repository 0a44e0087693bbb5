"""Service networks: a Gateway is the Lattice service network of its name."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from ..moved import FormerWrapper
from ..model.limits import AUTH_TYPES, check, name_problem


# Type tokens of what this module declares (their aliases from release 0.1 name them: components/moved.py).
NETWORK_TYPE = "aws:vpclattice/serviceNetwork:ServiceNetwork"
AUTH_POLICY_TYPE = "aws:vpclattice/authPolicy:AuthPolicy"
ACCESS_LOGS_TYPE = "aws:vpclattice/accessLogSubscription:AccessLogSubscription"
VPC_ASSOCIATION_TYPE = "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation"


class ServiceNetwork:
    """A service network (created by its owner stack only), its auth policy and access log subscription
    parented to it. Declared directly, not as a component (components/moved.py): `opts` places the network."""

    network: aws.vpclattice.ServiceNetwork
    id: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, network_name: str, auth_policy: str | None, tags: dict[str, str],
                 access_logs: str | None = None, opts: pulumi.ResourceOptions | None = None):
        auth_type = "AWS_IAM" if auth_policy else "NONE"
        check(name_problem("service network", network_name), None if auth_type in AUTH_TYPES else auth_type)
        opts = opts or pulumi.ResourceOptions()
        former = FormerWrapper("clusterfabric:lattice:ServiceNetwork", name, opts.parent)
        self.network = aws.vpclattice.ServiceNetwork(name, name=network_name, auth_type=auth_type, tags=tags,
                                                     opts=former.options(opts, NETWORK_TYPE, name))
        child = pulumi.ResourceOptions(parent=self.network, provider=opts.provider)
        if auth_policy:
            aws.vpclattice.AuthPolicy(f"{name}-auth", resource_identifier=self.network.arn, policy=auth_policy,
                                      opts=former.options(child, AUTH_POLICY_TYPE, f"{name}-auth"))
        if access_logs:
            aws.vpclattice.AccessLogSubscription(f"{name}-access-logs", resource_identifier=self.network.arn,
                                                 destination_arn=access_logs, tags=tags,
                                                 opts=former.options(child, ACCESS_LOGS_TYPE, f"{name}-access-logs"))
        self.id, self.arn = self.network.id, self.network.arn


def vpc_association(name: str, network_id: Any, vpc_id: str, security_group_ids: list[str], tags: dict[str, str],
                    opts: pulumi.ResourceOptions | None = None) -> aws.vpclattice.ServiceNetworkVpcAssociation:
    """A VPC joins a service network (release 0.1 wrapped it in a component: the alias). A replacement is created
    after the old association is deleted: Lattice refuses a second association of the VPC."""
    args: dict[str, Any] = {"service_network_identifier": network_id, "vpc_identifier": vpc_id, "tags": tags}
    if security_group_ids:
        args["security_group_ids"] = security_group_ids
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))
    former = FormerWrapper("clusterfabric:lattice:VpcAssociation", name, opts.parent)
    return aws.vpclattice.ServiceNetworkVpcAssociation(name, **args,
                                                       opts=former.options(opts, VPC_ASSOCIATION_TYPE, name))
