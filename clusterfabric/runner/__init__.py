"""The fabric runner: preview, up, refresh and destroy over a fabric's stacks through the Automation API, and the
`clusterfabric` CLI."""
