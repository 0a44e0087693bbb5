"""clusterfabric: run a whole fabric of cluster stacks (Automation API layer and CLI).

`Fabric` is the Python API (see clusterfabric/fabric.py); `clusterfabric` the CLI.
"""

from .fabric import Event, Fabric, FabricResult, StackResult

__all__ = ["Event", "Fabric", "FabricResult", "StackResult"]
