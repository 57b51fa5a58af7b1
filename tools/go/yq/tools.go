//go:build tools

// Package tools pins yq, which Kratix's pipeline-adapter image runs (its
// update-status script merges status with it).
package tools

import _ "github.com/mikefarah/yq/v4"
