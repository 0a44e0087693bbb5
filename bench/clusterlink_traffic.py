"""Traffic through the fabric: ClusterLink's iperf3 example, through its Go data planes, against directly.

    sudo .venv/bin/python -m bench.clusterlink_traffic [--seconds 5] [--repeats 3] [--connections 20]

examples/iperf3 runs for real on this machine (clusterfabric/local/localfabric.py: a
local API server per cluster, the real cl-controlplane and cl-go-dataplane, one
network namespace per pod). In the same run, interleaved, `repeats` times each:

- throughput: `iperf3 -c` from a pod of the importing cluster through the
  importing data plane's listener for the Import (then mTLS to the exporting
  data plane, then the Service), against `iperf3 -c` from such a pod straight
  to the server pod's address;
- connection set-up: the time to the server's first answer over a new
  connection (bench/connect_probe.py), `connections` attempts each way.

The figure printed last: throughput through the fabric as a fraction of direct,
and set-up latency as a multiple of direct.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .cli import main_of
from .measure import Table, median, ratio

NAME = "clusterlink_traffic"
PROBE = Path(__file__).resolve().parent / "connect_probe.py"


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=int, default=5, help="length of each iperf3 transfer (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="transfers each way (default 3)")
    parser.add_argument("--connections", type=int, default=20, help="set-up probes each way (default 20)")


def _probe(local, host: str, port: int, count: int) -> list[float]:
    pod = local.run_workload("client", "default", f"probe-{len(local.pods)}", {"app": "probe"},
                             [sys.executable, str(PROBE), host, str(port), str(count)])
    if pod.wait(60 + count) != 0:
        pod.stop()
        raise RuntimeError(f"connection probe to {host}:{port} failed:\n{pod.log_tail()}")
    return json.loads(pod.log.read_text().strip().splitlines()[-1])["seconds"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from clusterfabric.local.iperf3 import EXAMPLE, SERVER_PORT, import_listener, serve, transfer
    from clusterfabric.local.localfabric import run_locally

    throughput: dict[str, list[float]] = {"fabric": [], "direct": []}
    latency: dict[str, list[float]] = {"fabric": [], "direct": []}
    with tempfile.TemporaryDirectory(prefix="bench-traffic-") as scratch, \
            run_locally(EXAMPLE, Path(scratch), lambda line: print(f"  {line}", file=sys.stderr)) as running:
        local = running.local
        serve(local)
        local.sync()
        paths = {"fabric": import_listener(local), "direct": (local.pod("server", "iperf3-server").address, SERVER_PORT)}
        for _ in range(args.repeats):
            for side, (host, port) in paths.items():
                done = transfer(local, host, port, args.seconds)
                if not done.completed:
                    raise RuntimeError(f"iperf3 {side} failed: {done.error}")
                throughput[side].append(done.bits_per_second)
        for side, (host, port) in paths.items():
            latency[side] = _probe(local, host, port, args.connections)
    return {"seconds": args.seconds, "throughput_bits_per_second": throughput, "first_answer_seconds": latency,
            "throughput_ratio": median(throughput["fabric"]) / median(throughput["direct"]),
            "latency_ratio": median(latency["fabric"]) / median(latency["direct"])}


def markdown(results: dict[str, Any]) -> str:
    table = Table(["path", "iperf3 throughput (median, Gbit/s)", "runs", "first answer over a new connection "
                   "(median, ms)", "probes"])
    for side, label in (("fabric", "through ClusterLink (Go data planes, mTLS)"), ("direct", "pod to pod directly")):
        rates, waits = results["throughput_bits_per_second"][side], results["first_answer_seconds"][side]
        table.add(label, f"{median(rates) / 1e9:.2f}", len(rates), f"{median(waits) * 1e3:.1f}", len(waits))
    return table.markdown()


def summary(results: dict[str, Any]) -> str:
    return (f"throughput through the fabric {ratio(results['throughput_ratio'])} of direct; connection set-up "
            f"{ratio(results['latency_ratio'])} direct's")


def main(argv: list[str] | None = None) -> None:
    main_of(NAME, __doc__ or "", arguments, run, markdown, summary, argv)


if __name__ == "__main__":
    main()
