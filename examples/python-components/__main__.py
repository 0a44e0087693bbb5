"""An existing stack of yours, with one VPC Lattice ServiceExport and one ClusterLink Import added to it.

Everything above the `ADDED` line stands for the program you already have: a cluster's Kubernetes provider
(here it renders manifests to ./rendered; give it your kubeconfig instead), its `shop` namespace and the
`checkout` Service, and an AWS provider for the cluster's account. The two components below it are all it takes
to share `checkout` over VPC Lattice and to reach `reviews`, which the ClusterLink peer `east` exports, with no
fabric.yaml. Their arguments are checked as `clusterfabric validate` checks a fabric's manifests.

Config (`scripts/pulumi config set KEY VALUE`): accountId, region, vpcId (the cluster's VPC), nodeGroup (the Auto
Scaling group of its nodes: VPC Lattice reaches `checkout` on its NodePort there).
"""

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from clusterfabric.components.clusterlink import Import
from clusterfabric.components.lattice import ServiceExport

config = pulumi.Config()
account, region = config.require("accountId"), config.require("region")

cluster = k8s.Provider("cluster", render_yaml_to_directory="rendered")
shop = k8s.core.v1.Namespace("shop", metadata={"name": "shop"}, opts=pulumi.ResourceOptions(provider=cluster))
in_shop = pulumi.ResourceOptions(provider=cluster, depends_on=[shop])
k8s.core.v1.Service("checkout", metadata={"name": "checkout", "namespace": "shop"}, spec={
    "type": "NodePort", "selector": {"app": "checkout"}, "ports": [{"port": 8080, "nodePort": 30080}]}, opts=in_shop)
cloud = aws.Provider("aws", region=region, allowed_account_ids=[account])

# ADDED: checkout shared over VPC Lattice (a target group for the Lattice service `checkout-shop`, which forwards
# to it, with the nodes as targets), and reviews reached over ClusterLink (ClusterLink creates the Service
# reviews.shop; the Peer `east` is ClusterLink's, declared where ClusterLink is set up).
checkout = ServiceExport("checkout", {
    "name": "checkout", "namespace": "shop", "cluster": "shop", "account_id": account, "region": region,
    "vpc_id": config.require("vpcId"), "targets": {"mode": "instance", "auto_scaling_group": config.require("nodeGroup")},
    "exported_ports": [{"port": 8080, "route_type": "HTTP", "target_port": 30080}], "consumers": ["checkout-shop"],
}, opts=pulumi.ResourceOptions(provider=cloud))
reviews = Import("reviews", {
    "name": "reviews", "namespace": "shop", "port": 9080,
    "sources": [{"export_name": "reviews", "export_namespace": "bookinfo", "peer": "east"}],
}, opts=in_shop)

pulumi.export("checkoutTargetGroups", checkout.target_groups)
pulumi.export("reviews", reviews.service)
