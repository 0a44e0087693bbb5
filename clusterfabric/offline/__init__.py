"""The offline plan: every cluster program evaluated under Pulumi's mocks, behind a stateful fake of the VPC Lattice
API that refuses what AWS refuses."""
