//go:build tools

// Package tools pins the kube-apiserver command in this module's graph; setup
// builds it by import path: go build k8s.io/kubernetes/cmd/kube-apiserver.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
