"""Where a local node keeps what the kernel limits: unix sockets' paths (at most 107 bytes)."""

from __future__ import annotations

from clusterfabric.local.nodes import Node, NodeControlPlane, Ranges

UNIX_PATH_MAX = 107
"""Bytes of a unix socket's path (sun_path is 108 with its terminating NUL)."""
KUBELET_SOCKET = "pod-resources/917542695"
"""The longest name the kubelet binds below its root: the pod-resources listener's temporary file."""


def test_the_kubelets_sockets_stay_short_however_deep_the_clusters_folder_is(tmp_path):
    deep = tmp_path.joinpath(*["a-folder-name-of-some-length"] * 8) / "server"
    node = Node(NodeControlPlane("server", deep, Ranges(0)), {})
    assert len(str(node.kubelet_root / KUBELET_SOCKET)) <= UNIX_PATH_MAX
    assert len(str(node.socket) + ".ttrpc") <= UNIX_PATH_MAX
