//go:build tools

// Package tools pins gofakes3, the S3-compatible server the local environment
// runs on loopback as Kratix's state store (Flux reads it back). It ignores
// credentials: it is a stand-in for S3, never a production store.
package tools

import _ "github.com/johannesboyne/gofakes3/cmd/gofakes3"
