"""What Argo CD and Flux are given: a stack's folder syncs in one go, its CRDs before the objects of their kinds,
and the README's example Application and Kustomizations point at the folders the deploy workflow publishes."""

from __future__ import annotations

from pathlib import Path

import yaml

from clusterfabric.gitops.rendered import CRD_FOLDER, MANIFEST_FOLDER, publish
from clusterfabric.toolchain import PROJECT_DIR

EXAMPLES = PROJECT_DIR / "examples" / "gitops"
CRD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: exports.clusterlink.net}\n"
EXPORT = "apiVersion: clusterlink.net/v1alpha1\nkind: Export\nmetadata: {name: web, namespace: default}\n"


def published(tmp_path: Path, files: dict[str, str]) -> dict:
    """The kustomization of a stack folder holding `files`, as the deploy workflow publishes it."""
    rendered = tmp_path / "rendered" / "east"
    for name, text in files.items():
        (rendered / name).parent.mkdir(parents=True, exist_ok=True)
        (rendered / name).write_text(text)
    publish(rendered, tmp_path / "published" / "east")
    return yaml.safe_load((tmp_path / "published" / "east" / "kustomization.yaml").read_text())


def test_a_folder_with_crds_puts_them_in_an_argo_cd_sync_wave_before_their_objects(tmp_path: Path):
    kustomization = published(tmp_path, {f"{CRD_FOLDER}/exports.yaml": CRD, f"{MANIFEST_FOLDER}/export.yaml": EXPORT})
    [patch] = kustomization["patches"]
    assert patch["target"] == {"kind": "CustomResourceDefinition"}
    assert yaml.safe_load(patch["patch"])["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-1"}


def test_a_folder_without_crds_has_no_patch(tmp_path: Path):
    assert "patches" not in published(tmp_path, {f"{MANIFEST_FOLDER}/export.yaml": EXPORT})


def test_the_argo_cd_example_syncs_a_published_folder_with_objects_of_crds_it_installs():
    [app] = yaml.safe_load_all((EXAMPLES / "argocd-application.yaml").read_text())
    assert (app["apiVersion"], app["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert (app["spec"]["source"]["targetRevision"], app["spec"]["source"]["path"]) == ("rendered", "east")
    assert "SkipDryRunOnMissingResource=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_the_flux_example_applies_a_stacks_crds_before_its_objects():
    source, crds, objects = yaml.safe_load_all((EXAMPLES / "flux-kustomizations.yaml").read_text())
    assert (source["kind"], source["spec"]["ref"]) == ("GitRepository", {"branch": "rendered"})
    assert (crds["spec"]["path"], crds["spec"]["wait"]) == (f"./east/{CRD_FOLDER}", True)
    assert objects["spec"]["path"] == f"./east/{MANIFEST_FOLDER}"
    assert objects["spec"]["dependsOn"] == [{"name": crds["metadata"]["name"]}]
    assert {k["spec"]["sourceRef"]["name"] for k in (crds, objects)} == {source["metadata"]["name"]}


def test_the_flux_example_decrypts_the_sops_encrypted_secrets_of_the_objects_folder():
    _, crds, objects = yaml.safe_load_all((EXAMPLES / "flux-kustomizations.yaml").read_text())
    assert objects["spec"]["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
    assert "decryption" not in crds["spec"]  # no Secret among the CRDs
