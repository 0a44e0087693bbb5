"""clusterfabric: run a whole fabric of cluster stacks (Automation API layer and CLI).

`Fabric` is the Python API (see clusterfabric/runner/fabric.py); `clusterfabric` the CLI.
"""

from importlib import import_module

# Each public name and the module that defines it.
_HOMES = {"BackendError": "clusterfabric.toolchain", "ClusterTarget": "clusterfabric.components.contract",
          "Event": "clusterfabric.runner.events", "Fabric": "clusterfabric.runner.fabric",
          "FabricResult": "clusterfabric.runner.results", "InputError": "clusterfabric.components.model",
          "StackResult": "clusterfabric.runner.results", "UnknownStackError": "clusterfabric.runner.fabric"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    # Loaded on first use: the CLI's other commands and scripts/pulumi stay quick to start.
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(name)
