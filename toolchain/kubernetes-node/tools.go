//go:build tools

// Package tools pins the node's commands in this module's graph, at the k8s.io/kubernetes
// version toolchain/apiserver builds kube-apiserver from (same replace lines); setup builds
// them by import path: go build k8s.io/kubernetes/cmd/kubelet, and so on.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
