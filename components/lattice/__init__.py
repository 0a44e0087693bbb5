"""VPC Lattice components, provisioned the way the AWS Gateway API Controller would."""
