"""The component package: components any Pulumi program can use, in any Pulumi language.

This directory is a source-based Pulumi plugin (PulumiPlugin.yaml, __main__.py): the Python SDK's
component provider host serves the classes package.py lists (ClusterLink's Platform, Export, Import, Peer,
AccessPolicy) and infers the package's schema (`clusterfabric:<module>:<Class>`, provider.py) from their
type annotations, so `pulumi package add` of this directory gives a YAML, TypeScript, Go, C# or Java program
the same components, validated by the same models as `clusterfabric validate`. A Python program imports the
classes directly (`from components.clusterlink import Export`). docs/components.md documents them.
"""
