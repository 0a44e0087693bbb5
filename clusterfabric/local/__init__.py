"""Local clusters on this machine: a real kube-apiserver and etcd per cluster, and ClusterLink's pods as processes in
network namespaces (for `clusterfabric apiservers`, `clusterfabric iperf3` and the end-to-end tests)."""
