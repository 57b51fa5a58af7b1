//go:build tools

// Package tools pins the Pulumi YAML language host, which runs the YAML program
// of test/e2e/yaml-package.test.ts (examples/yaml) against this package's
// component provider.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
