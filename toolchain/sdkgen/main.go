// Command sdkgen writes the SDK of a Pulumi package schema for one language, with the code generators of
// github.com/pulumi/pulumi/pkg/v3 that `pulumi package gen-sdk` reaches through each language's host.
//
// Why our own: in v3.259.0 `pulumi package gen-sdk` asks the language host of the SDK's language to generate
// it (GeneratePackage), and the hosts of Node.js and Go live in Go modules the module proxy reachable from these
// machines does not serve (403), while the project's Python host answers only what running programs needs.
// The generators themselves are in pkg/v3, which is served. C# and Java have theirs in pulumi-dotnet and
// pulumi-java: not here.
//
// Usage: sdkgen SCHEMA.json nodejs|go|python OUT_DIR
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi"

func main() {
	if len(os.Args) != 4 {
		fail(fmt.Errorf("usage: sdkgen SCHEMA.json nodejs|go|python OUT_DIR"))
	}
	files, err := generate(os.Args[1], os.Args[2])
	if err != nil {
		fail(err)
	}
	for name, content := range files {
		path := filepath.Join(os.Args[3], name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			fail(err)
		}
	}
}

func generate(schemaPath, language string) (map[string][]byte, error) {
	text, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(text, &spec); err != nil {
		return nil, fmt.Errorf("reading %s: %w", schemaPath, err)
	}
	// Validated as gen-sdk validates a package before generating it.
	pkg, diags, err := schema.BindSpec(spec, noOtherPackages{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags
	}
	switch language {
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, nil, nil, true, noOtherPackages{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	case "python":
		return python.GeneratePackage(tool, pkg, nil, noOtherPackages{})
	}
	return nil, fmt.Errorf("no generator for %q here: nodejs, go or python", language)
}

// noOtherPackages loads no package: the schema given is to refer to no other (the component package's does not).
type noOtherPackages struct{}

func (noOtherPackages) refuse(name string) error {
	return fmt.Errorf("the schema refers to package %s: sdkgen loads no other package", name)
}

func (l noOtherPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.refuse(name)
}

func (l noOtherPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.refuse(d.Name)
}

func (l noOtherPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.refuse(name)
}

func (l noOtherPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.refuse(d.Name)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sdkgen:", err)
	os.Exit(1)
}
