"""The load balancer of a local cluster with a node, as a process of its own (nodes.py's module doc says how the
ingress maps):

    python -m clusterfabric.local.loadbalancer KUBECONFIG ADDRESS

gives every Service of type LoadBalancer of the cluster `ADDRESS` (the cluster's gateway address, an address of its
node that kube-proxy then serves) as `status.loadBalancer.ingress`, checking once a second until SIGTERM, as a
cloud's load balancer controller would. Started with the node, so an `up` that awaits its Services (a cluster with
controllers) sees them get an address; it outlives the command that started it, as the node's processes do.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from .kubeapi import KubeClient, KubeError

INTERVAL = 1.0


def publish(client: KubeClient, address: str) -> list[str]:
    """Every LoadBalancer Service without `address` as its only ingress gets it; `namespace/name` of each."""
    published = []
    for service in client.get("/api/v1/services")["items"]:
        if service["spec"].get("type") != "LoadBalancer":
            continue
        meta = service["metadata"]
        if [i.get("ip") for i in service.get("status", {}).get("loadBalancer", {}).get("ingress", [])] == [address]:
            continue
        try:
            client.request("PATCH", f"/api/v1/namespaces/{meta['namespace']}/services/{meta['name']}/status",
                           {"status": {"loadBalancer": {"ingress": [{"ip": address, "ipMode": "VIP"}]}}},
                           content_type="application/merge-patch+json")
        except KeyError:  # deleted meanwhile
            continue
        published.append(f"{meta['namespace']}/{meta['name']}")
    return published


def main(argv: list[str]) -> int:
    kubeconfig, address = Path(argv[0]), argv[1]
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.is_set():
        try:
            for name in publish(KubeClient.from_kubeconfig(kubeconfig), address):
                print(f"published {name} at {address}", flush=True)
        except (KubeError, OSError) as err:  # the API server restarting: try again
            print(f"not published: {err}", flush=True)
        stopped.wait(INTERVAL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
