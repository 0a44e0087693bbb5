"""Service networks: a Gateway is the Lattice service network of its name."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from ..model.limits import AUTH_TYPES, check, name_problem


class ServiceNetwork(pulumi.ComponentResource):
    """`clusterfabric:lattice:ServiceNetwork`: the network (created by its owner stack only) and its auth policy."""

    network: aws.vpclattice.ServiceNetwork
    id: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, network_name: str, auth_policy: str | None, tags: dict[str, str],
                 access_logs: str | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:lattice:ServiceNetwork", name, None, opts)
        auth_type = "AWS_IAM" if auth_policy else "NONE"
        check(name_problem("service network", network_name), None if auth_type in AUTH_TYPES else auth_type)
        child = pulumi.ResourceOptions(parent=self)
        self.network = aws.vpclattice.ServiceNetwork(name, name=network_name, auth_type=auth_type, tags=tags,
                                                     opts=child)
        if auth_policy:
            aws.vpclattice.AuthPolicy(f"{name}-auth", resource_identifier=self.network.arn, policy=auth_policy,
                                      opts=child)
        if access_logs:
            aws.vpclattice.AccessLogSubscription(f"{name}-access-logs", resource_identifier=self.network.arn,
                                                 destination_arn=access_logs, tags=tags, opts=child)
        self.id, self.arn = self.network.id, self.network.arn
        self.register_outputs({"id": self.id, "arn": self.arn, "authType": auth_type})


class VpcAssociation(pulumi.ComponentResource):
    """`clusterfabric:lattice:VpcAssociation`: this cluster's VPC joins a service network."""

    def __init__(self, name: str, network_id: Any, vpc_id: str, security_group_ids: list[str],
                 tags: dict[str, str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:lattice:VpcAssociation", name, None, opts)
        args: dict[str, Any] = {"service_network_identifier": network_id, "vpc_identifier": vpc_id, "tags": tags}
        if security_group_ids:
            args["security_group_ids"] = security_group_ids
        self.association = aws.vpclattice.ServiceNetworkVpcAssociation(
            name, **args, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"id": self.association.id})
