// Command pulumi-resource-kubernetes serves the upstream Kubernetes provider.
//
// Upstream's main embeds schema-embed.json, a file generated at release time
// and absent from the module. We embed the module's schema.json instead,
// copied next to this file by scripts/setup, and set the version the same way
// upstream's generator does.
package main

import (
	_ "embed"
	"encoding/json"
	"log"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schemaJSON []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	var spec map[string]any
	if err := json.Unmarshal(schemaJSON, &spec); err != nil {
		log.Fatalf("provider schema: %v", err)
	}
	spec["version"] = version.Version
	schema, err := json.Marshal(spec)
	if err != nil {
		log.Fatalf("provider schema: %v", err)
	}
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
