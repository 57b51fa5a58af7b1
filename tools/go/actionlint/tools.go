//go:build tools

// Package tools pins actionlint, which test/ci/workflows.test.ts runs on the
// workflow files in .github/workflows/.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
