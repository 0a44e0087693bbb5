"""Serves the package's components to the Pulumi engine (run by the Python language host as a plugin)."""

import sys

from pulumi.provider import main

from clusterfabric.components.plugin.package import package

if __name__ == "__main__":
    # The engine's address and flags follow the plugin's directory, as component_provider_host reads them.
    main(package(), sys.argv[1:])
