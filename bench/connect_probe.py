"""Time to a first answer over new connections to an iperf3 server, run inside a pod of the local fabric.

    python bench/connect_probe.py HOST PORT COUNT

Each attempt connects, sends iperf3's 37-byte cookie and reads the one-byte
state the server answers with. Through ClusterLink that includes both data
planes' authorization (egress, then ingress at the exporting peer) and the mTLS
connection between them. Prints JSON: {"seconds": [...]}, one per attempt.
"""

import json
import socket
import sys
import time

COOKIE = b"c" * 36 + b"\0"


def main() -> None:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seconds = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(COOKIE)
            if not sock.recv(1):
                raise SystemExit(f"{host}:{port} closed the connection without answering")
        seconds.append(time.perf_counter() - started)
        time.sleep(0.3)  # iperf3's server resets after each abandoned test
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
