//go:build tools

// Package tools pins the upstream command this wrapper module builds (vela-core);
// cmd/vela-cue is ours.
package tools

import (
	_ "github.com/oam-dev/kubevela/cmd/core"
)
