//go:build tools

// Package tools pins Flux's source-controller and kustomize-controller, which the
// local environment runs as processes to apply what Kratix writes to the state store.
package tools

import (
	_ "github.com/fluxcd/kustomize-controller"
	_ "github.com/fluxcd/source-controller"
)
