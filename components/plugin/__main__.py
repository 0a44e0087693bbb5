"""Serves the package's components to the Pulumi engine (run by the Python language host as a plugin)."""

from pulumi.provider.experimental import component_provider_host

from components.plugin.clusterlink import PACKAGE, Export, Import

if __name__ == "__main__":
    component_provider_host([Export, Import], name=PACKAGE)
