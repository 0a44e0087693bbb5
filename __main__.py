"""One cluster's stack: load the fabric, then build this stack's cluster from it.

Stack config (stacks/Pulumi.<cluster>.yaml):
  clusterfabric:fabric           fabric directory (default: config)
  clusterfabric:renderDirectory  where manifests are written (default: rendered/<stack>);
                                 set to "" to apply to the cluster of the ambient kubeconfig
"""

from pathlib import Path

import pulumi

from components.links import build_stack
from components.model import InputError
from components.model.checks import load_fabric

config = pulumi.Config("clusterfabric")
root = Path(pulumi.get_root_directory())
stack = pulumi.get_stack()
render = config.get("renderDirectory")
render_directory = root / "rendered" / stack if render is None else (root / render if render else None)

try:
    fabric = load_fabric(root / (config.get("fabric") or "config"))
    fabric.spec.cluster(stack)
except InputError as err:
    raise pulumi.RunError(f"invalid fabric input:\n{err}") from None
except KeyError as err:
    raise pulumi.RunError(str(err.args[0])) from None

for name, value in build_stack(fabric, stack, render_directory).items():
    pulumi.export(name, value)
