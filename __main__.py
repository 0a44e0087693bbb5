"""One cluster's stack: load this stack's cluster from the fabric and build it.

Stack config (stacks/Pulumi.<cluster>.yaml):
  clusterfabric:fabric           fabric directory (default: config)
  clusterfabric:renderDirectory  where manifests are written (default: rendered/<stack>);
                                 set to "" to apply to the cluster of the ambient kubeconfig
"""

from pathlib import Path

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.model import InputError, load_cluster_manifests, load_fabric_spec

config = pulumi.Config("clusterfabric")
root = Path(pulumi.get_root_directory())
stack = pulumi.get_stack()
fabric_dir = root / (config.get("fabric") or "config")
render = config.get("renderDirectory")
render_directory = root / "rendered" / stack if render is None else (root / render if render else None)

try:
    spec = load_fabric_spec(fabric_dir)
    cluster_spec = spec.cluster(stack)
    manifests = load_cluster_manifests(fabric_dir, stack)
except InputError as err:
    raise pulumi.RunError(f"invalid fabric input:\n{err}") from None
except KeyError as err:
    raise pulumi.RunError(str(err.args[0])) from None

cluster = Cluster(stack, ClusterArgs(spec=cluster_spec, manifests=manifests, render_directory=render_directory))

pulumi.export("cluster", stack)
pulumi.export("dataplane", cluster_spec.dataplane)
pulumi.export("renderDirectory", str(render_directory) if render_directory else None)
pulumi.export("services", sorted(cluster.services))
