// flux-apply: what Flux's kustomize-controller does with a folder of a GitRepository, with Flux's own
// packages, so the tests judge the published stack folders by Flux's code rather than by an imitation:
//
//  1. copy the folder (the controller works on a copy of the source artifact) and run
//     fluxcd/pkg/kustomize's generator on it (a kustomization.yaml merged with the Kustomization's
//     settings, or generated where the folder has none), then its secure build (no file outside the
//     root, no plugins, no remote bases);
//  2. decrypt every SOPS-encrypted Secret of the build with sops/v3's decrypt package, with the age
//     identity of the environment (SOPS_AGE_KEY or SOPS_AGE_KEY_FILE, as sops reads them; the
//     controller reads the same from its decryption.secretRef);
//  3. with fluxcd/pkg/ssa's ResourceManager on the cluster of --kubeconfig: a server-side dry run of
//     every object (objects whose kind a CRD of this folder defines, or in a namespace it declares, are
//     reported "created" until that CRD or namespace exists: the API server cannot dry-run them earlier,
//     nor can the controller, whose dry runs are per stage), then
//     ApplyAllStaged: CRDs and namespaces first (waited for until established), then the rest.
//
// It prints one JSON object: {"dryRun": [...], "apply": [...]}, each entry
// {"subject": "Kind/namespace/name", "action": "created|configured|unchanged|..."} in the order the
// ResourceManager gave them. With --dry-run it stops after the dry run. Exit status 1 on any error.
//
// Usage: flux-apply --kubeconfig FILE [--dry-run] FOLDER
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/ssa"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/decrypt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/resource"
)

type entry struct {
	Subject string `json:"subject"`
	Action  string `json:"action"`
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "the cluster's kubeconfig")
	dryRun := flag.Bool("dry-run", false, "stop after the server-side dry run")
	flag.Parse()
	if flag.NArg() != 1 || *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "usage: flux-apply --kubeconfig FILE [--dry-run] FOLDER")
		os.Exit(2)
	}
	if err := run(*kubeconfig, flag.Arg(0), *dryRun); err != nil {
		fmt.Fprintln(os.Stderr, "flux-apply:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, folder string, dryRun bool) error {
	objects, err := build(folder)
	if err != nil {
		return err
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	kubeClient, err := client.New(config, client.Options{})
	if err != nil {
		return err
	}
	poller := polling.NewStatusPoller(kubeClient, kubeClient.RESTMapper(), polling.Options{})
	manager := ssa.NewResourceManager(kubeClient, poller, ssa.Owner{Field: "kustomize-controller", Group: "kustomize.toolkit.fluxcd.io"})
	manager.SetOwnerLabels(objects, "clusterfabric", "flux-system") // as the controller labels what it applies
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	result := map[string][]entry{"dryRun": {}}
	pendingKinds, pendingNamespaces := definedKinds(objects), definedNamespaces(objects)
	for _, object := range objects {
		change, _, _, err := manager.Diff(ctx, object.DeepCopy(), ssa.DefaultDiffOptions())
		switch {
		case err == nil:
			result["dryRun"] = append(result["dryRun"], entry{change.Subject, change.Action.String()})
		case apimeta.IsNoMatchError(err) && pendingKinds[object.GroupVersionKind().GroupKind().String()],
			apierrors.IsNotFound(err) && pendingNamespaces[object.GetNamespace()]:
			result["dryRun"] = append(result["dryRun"], entry{subject(object), ssa.CreatedAction.String()})
		default:
			return fmt.Errorf("dry run of %s: %w", subject(object), err)
		}
	}
	if !dryRun {
		opts := ssa.DefaultApplyOptions()
		changeSet, err := manager.ApplyAllStaged(ctx, objects, opts)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		result["apply"] = []entry{}
		for _, change := range changeSet.Entries {
			result["apply"] = append(result["apply"], entry{change.Subject, change.Action.String()})
		}
	}
	out, err := json.MarshalIndent(result, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// build: the controller's generate-then-secure-build of the folder, on a copy, then SOPS decryption.
func build(folder string) ([]*unstructured.Unstructured, error) {
	root, err := os.MkdirTemp("", "flux-apply-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	if err := os.CopyFS(root, os.DirFS(folder)); err != nil {
		return nil, fmt.Errorf("copy %s: %w", folder, err)
	}
	kustomization := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "clusterfabric", "namespace": "flux-system"},
		"spec":     map[string]any{"path": "./", "prune": true},
	}}
	if _, err := kustomize.NewGenerator(root, kustomization).WriteFile(root); err != nil {
		return nil, fmt.Errorf("generate kustomization: %w", err)
	}
	resources, err := kustomize.SecureBuild(root, root, false)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	for _, res := range resources.Resources() {
		if err := decryptResource(res); err != nil {
			return nil, err
		}
	}
	manifests, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	// As the controller: the build's YAML read back into unstructured objects.
	objects, err := ssautils.ReadObjects(bytes.NewReader(manifests))
	if err != nil {
		return nil, fmt.Errorf("read the build: %w", err)
	}
	return objects, nil
}

// decryptResource, as the controller's DecryptResource: a Secret carrying a `sops` key is decrypted whole,
// from its JSON form (kustomize keeps the field order of the file, which the SOPS MAC covers).
func decryptResource(res *resource.Resource) error {
	if res.GetKind() != "Secret" || res.Field("sops") == nil {
		return nil // not encrypted
	}
	data, err := res.MarshalJSON()
	if err != nil {
		return err
	}
	clear, err := decrypt.DataWithFormat(data, formats.Json)
	if err != nil {
		return fmt.Errorf("decrypt Secret %s/%s: %w", res.GetNamespace(), res.GetName(), err)
	}
	if err := res.UnmarshalJSON(clear); err != nil {
		return fmt.Errorf("decrypted Secret %s/%s: %w", res.GetNamespace(), res.GetName(), err)
	}
	return nil
}

func definedKinds(objects []*unstructured.Unstructured) map[string]bool {
	kinds := map[string]bool{}
	for _, o := range objects {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		kinds[kind+"."+group] = true
	}
	return kinds
}

func definedNamespaces(objects []*unstructured.Unstructured) map[string]bool {
	names := map[string]bool{}
	for _, o := range objects {
		if o.GetKind() == "Namespace" && o.GroupVersionKind().Group == "" {
			names[o.GetName()] = true
		}
	}
	return names
}

func subject(o *unstructured.Unstructured) string {
	return strings.Join([]string{o.GetKind(), o.GetNamespace(), o.GetName()}, "/")
}
