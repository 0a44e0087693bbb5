"""A host loopback port leading into a network namespace, as a process of its own (root only).

    python -m clusterfabric.local.forward NAMESPACE HOST_PORT ADDRESS PORT

accepts on 127.0.0.1:HOST_PORT and copies each connection to ADDRESS:PORT reached from inside NAMESPACE
(netns.Forwarder, each upstream socket made there), until SIGTERM. The API server of a local cluster with a
node runs in the node's namespace; this is how the host (Pulumi, the tests, `clusterfabric`) reaches it, and it
outlives the command that started it as the servers do.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading

from .netns import Forwarder, socket_in


def main(argv: list[str]) -> int:
    namespace, host_port, address, port = argv[0], int(argv[1]), argv[2], int(argv[3])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", host_port))
    listener.listen(128)
    forwarder = Forwarder(listener, (address, port), connect=lambda: socket_in(namespace, (address, port))).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    forwarder.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
