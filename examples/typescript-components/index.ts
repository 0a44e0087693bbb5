// Declares a ClusterLink Export and a Lattice ServiceExport through the package's TypeScript SDK.
import * as clusterfabric from "@pulumi/clusterfabric";

new clusterfabric.clusterlink.Export("checkout", { name: "checkout", namespace: "shop", port: 8080 });

const reviews = new clusterfabric.lattice.ServiceExport("reviews", {
    name: "reviews",
    namespace: "shop",
    cluster: "eks-shop",
    accountId: "111122223333",
    region: "us-west-2",
    vpcId: "vpc-0a1b2c3d4e5f60001",
    exportedPorts: [{ port: 80, routeType: "HTTP", targetPort: 30080 }],
    targets: { mode: "instance", autoScalingGroup: "eks-shop-nodes" },
    consumers: ["cart-shop", "orders-shop"],
});

export const targetGroups = reviews.targetGroups; // each {port, consumer, name, arn}
