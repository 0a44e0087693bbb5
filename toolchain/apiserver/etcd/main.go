// Command etcd is etcd's own server entry point (etcdmain), at the version
// k8s.io/kubernetes v1.33.3 is tested against; the module proxy serves the
// server module but no command to build directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
