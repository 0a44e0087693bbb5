//go:build tools

// Package tools pins actionlint in this module's graph; setup builds it by
// import path (go build github.com/rhysd/actionlint/cmd/actionlint).
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
