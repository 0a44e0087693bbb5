// Declares a ClusterLink Export and a Lattice ServiceExport through the package's Go SDK.
package main

import (
	"example.com/pulumi-clusterfabric/sdk/go/clusterfabric/clusterlink"
	"example.com/pulumi-clusterfabric/sdk/go/clusterfabric/lattice"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		if _, err := clusterlink.NewExport(ctx, "checkout", &clusterlink.ExportArgs{
			Name:      "checkout",
			Namespace: "shop",
			Port:      8080,
		}); err != nil {
			return err
		}
		exported, err := lattice.NewServiceExport(ctx, "reviews", &lattice.ServiceExportArgs{
			Name:          "reviews",
			Namespace:     "shop",
			Cluster:       "eks-shop",
			AccountId:     "111122223333",
			Region:        "us-west-2",
			VpcId:         "vpc-0a1b2c3d4e5f60001",
			ExportedPorts: []lattice.ExportedPortArgsArgs{{Port: 80, RouteType: "HTTP", TargetPort: pulumi.IntRef(30080)}},
			Targets:       lattice.TargetsArgsArgs{Mode: "instance", AutoScalingGroup: pulumi.StringRef("eks-shop-nodes")},
			Consumers:     []string{"cart-shop", "orders-shop"},
		})
		if err != nil {
			return err
		}
		ctx.Export("targetGroups", exported.TargetGroups) // each {port, consumer, name, arn}
		return nil
	})
}
