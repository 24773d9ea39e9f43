// pulumi-resource-kubernetes, as upstream's cmd/pulumi-resource-kubernetes/main.go but without its generated
// files: upstream embeds schema-embed.json and terraform-mapping-embed.json, which `go generate` writes from
// the module's schema.json and terraform-mapping.json (stamping the version into the schema) and which the
// published module leaves out. scripts/engines copies those two sources beside this file before building;
// the version is stamped here at start, as generate.go would have.
package main

import (
	_ "embed"
	"encoding/json"
	"log"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	var spec map[string]any
	if err := json.Unmarshal(schema, &spec); err != nil {
		log.Fatalf("cannot read the embedded schema: %v", err)
	}
	spec["version"] = version.Version
	versioned, err := json.Marshal(spec)
	if err != nil {
		log.Fatalf("cannot write the schema: %v", err)
	}
	provider.Serve("kubernetes", version.Version, versioned, terraformMapping)
}
