//go:build ignore

// prepare writes schema-embed.json (schema.json with "version" set) and a
// minified terraform-mapping-embed.json into the current directory.
// Usage: go run prepare.go <dir with schema.json and terraform-mapping.json> <version>
package main

import (
	"bytes"
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go run prepare.go SRC_DIR VERSION")
	}
	src, version := os.Args[1], os.Args[2]

	raw, err := os.ReadFile(filepath.Join(src, "schema.json"))
	if err != nil {
		log.Fatal(err)
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("schema.json: %v", err)
	}
	v, _ := json.Marshal(version)
	spec["version"] = v
	out, err := json.Marshal(spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("schema-embed.json", out, 0o644); err != nil {
		log.Fatal(err)
	}

	raw, err = os.ReadFile(filepath.Join(src, "terraform-mapping.json"))
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		log.Fatalf("terraform-mapping.json: %v", err)
	}
	if err := os.WriteFile("terraform-mapping-embed.json", buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
