//go:build tools

// Package tools pins the upstream commands this wrapper module builds.
package tools

import (
	_ "github.com/oam-dev/kubevela/cmd/core"
	_ "github.com/syntasso/kratix"
	_ "github.com/syntasso/kratix/work-creator/pipeline/cmd"
)
