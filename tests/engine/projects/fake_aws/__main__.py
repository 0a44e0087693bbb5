"""A service network, and unless `networkOnly` is set a Lattice service forwarding to a target group, declared
through pulumi_aws as any program would; the fake AWS provider plugin answers for AWS."""

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
provider = aws.Provider("lattice-aws", region="us-west-2", allowed_account_ids=["111122223333"])
opts = pulumi.ResourceOptions(provider=provider)

network = aws.vpclattice.ServiceNetwork("network", name=config.get("networkName") or "fabric-network",
                                        auth_type="NONE", opts=opts)
pulumi.export("networkArn", network.arn)

if not config.get_bool("networkOnly"):
    service = aws.vpclattice.Service("checkout", name="checkout-default", auth_type="NONE", opts=opts)
    group = aws.vpclattice.TargetGroup("checkout", name="k8s-checkout-default-80-http", type="IP", config={
        "port": 80, "protocol": "HTTP", "protocol_version": "HTTP1", "vpc_identifier": "vpc-0a1b2c3d4e5f60001"},
        opts=opts)
    listener = aws.vpclattice.Listener("checkout-80", name="checkout-default-80-http", protocol="HTTP", port=80,
                                       service_identifier=service.id, default_action={"forwards": [{"target_groups": [
                                           {"target_group_identifier": group.arn, "weight": 1}]}]}, opts=opts)
    pulumi.export("serviceArn", service.arn)
    pulumi.export("targetGroupArn", group.arn)
    pulumi.export("listenerArn", listener.arn)
