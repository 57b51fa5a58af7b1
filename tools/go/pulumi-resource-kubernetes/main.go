// Command pulumi-resource-kubernetes serves the Kubernetes provider from the
// published provider module, with the schema and terraform mapping embedded.
// The two *-embed.json files are generated next to this file at build time by
// tools/build-tools.sh (see prepare.go); they are never committed.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
