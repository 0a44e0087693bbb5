"""clusterfabric: run a whole fabric of cluster stacks (Automation API layer and CLI).

`Fabric` is the Python API (see clusterfabric/runner/fabric.py); `clusterfabric` the CLI.
"""

__all__ = ["BackendError", "ClusterTarget", "Event", "Fabric", "FabricResult", "InputError", "StackResult",
           "UnknownStackError"]


def __getattr__(name: str):
    # Loaded on first use: the CLI's other commands and scripts/pulumi stay quick to start.
    if name == "InputError":
        from components.model import InputError

        return InputError
    if name == "BackendError":
        from .toolchain import BackendError

        return BackendError
    if name in __all__:
        from .runner import fabric

        return getattr(fabric, name)
    raise AttributeError(name)
