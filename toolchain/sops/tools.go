//go:build tools

// sops, the secrets encryptor, pinned by this module's go.mod and go.sum and
// built by `scripts/setup test` into .tools/bin/sops: the GitOps publisher
// (clusterfabric/gitops/rendered.py) encrypts the published Secrets with it,
// and the tests decrypt them with it.
package tools

import _ "github.com/getsops/sops/v3/cmd/sops"
