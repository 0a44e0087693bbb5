//go:build tools

// Package tools pins ClusterLink's commands in this module's graph; setup builds
// them by import path (go build github.com/clusterlink-net/clusterlink/cmd/...).
package tools

import (
	_ "github.com/clusterlink-net/clusterlink/cmd/cl-controlplane"
	_ "github.com/clusterlink-net/clusterlink/cmd/cl-go-dataplane"
	_ "github.com/clusterlink-net/clusterlink/cmd/clusterlink"
)
