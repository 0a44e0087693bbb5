//go:build tools

// SeaweedFS's `weed`, pinned by this module's go.mod and go.sum and built by
// `scripts/setup test` into .tools/bin/weed: its S3 gateway is the
// S3-compatible object store the shared-backend test keeps the fabric's state
// in (clusterfabric/local/objectstore.py).
package tools

import _ "github.com/seaweedfs/seaweedfs/weed"
