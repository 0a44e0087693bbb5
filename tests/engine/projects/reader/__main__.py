"""Reads the outputs of another project's stack, as an importing cluster will."""

import pulumi

config = pulumi.Config()
source = pulumi.StackReference(config.require("source"))
pulumi.export("sourceCluster", source.get_output("cluster"))
pulumi.export("sourceServices", source.get_output("services"))
