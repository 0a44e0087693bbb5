//go:build tools

// Package tools pins CoreDNS, at the version kubeadm v1.33 deploys (v1.12.0), in this module's graph;
// setup builds its command by import path: go build github.com/coredns/coredns. It is the cluster DNS
// of the local clusters with nodes (clusterfabric/local/nodes.py), run as a pod from a local image.
package tools

import _ "github.com/coredns/coredns"
