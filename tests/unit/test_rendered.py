"""Rendered manifests finished for Argo CD and Flux: the CRDs they need, a kustomization, readable files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clusterfabric.gitops.drift import rendered_drift
from clusterfabric.gitops.rendered import CRDS_FIRST, finish_rendering, main, publish


def write(directory: Path, name: str, obj: dict, folder: str = "1-manifest") -> Path:
    """A file as the Kubernetes provider writes it: one object, mode 0600."""
    path = directory / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(obj))
    path.chmod(0o600)
    return path


def export(name: str = "reviews") -> dict:
    return {"apiVersion": "clusterlink.net/v1alpha1", "kind": "Export",
            "metadata": {"name": name, "namespace": "bookinfo"}, "spec": {"port": 9080}}


def secret() -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "cl-peer", "namespace": "clusterlink-system"},
            "data": {"key": "c2VjcmV0"}}


def namespace() -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}}


def files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def kustomization(directory: Path) -> dict:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def test_the_crds_of_the_custom_resources_rendered_are_written_and_no_others(tmp_path: Path):
    write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    write(tmp_path, "v1-namespace-default-bookinfo.yaml", namespace())
    finish_rendering(tmp_path)
    assert files(tmp_path / "0-crd") == ["clusterlink.net_exports.yaml"]
    crd = yaml.safe_load((tmp_path / "0-crd" / "clusterlink.net_exports.yaml").read_text())
    assert (crd["kind"], crd["metadata"]["name"]) == ("CustomResourceDefinition", "exports.clusterlink.net")


def test_a_crd_no_object_needs_any_more_is_removed(tmp_path: Path):
    manifest = write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    finish_rendering(tmp_path)
    manifest.unlink()
    write(tmp_path, "v1-namespace-default-bookinfo.yaml", namespace())
    finish_rendering(tmp_path)
    assert not (tmp_path / "0-crd" / "clusterlink.net_exports.yaml").exists()


def test_a_crd_the_stack_declares_itself_is_not_written_twice(tmp_path: Path):
    declared = yaml.safe_load((Path("clusterfabric/crds/clusterlink/clusterlink.net_exports.yaml")).read_text())
    write(tmp_path, "apiextensions.k8s.io_v1-customresourcedefinition-default-exports.clusterlink.net.yaml",
          declared, folder="0-crd")
    write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    finish_rendering(tmp_path)
    assert files(tmp_path / "0-crd") == [
        "apiextensions.k8s.io_v1-customresourcedefinition-default-exports.clusterlink.net.yaml"]


def test_the_kustomization_lists_every_manifest_file_and_only_those_run_after_run(tmp_path: Path):
    write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    write(tmp_path, "v1-secret-clusterlink-system-cl-peer.yaml", secret())
    finish_rendering(tmp_path)
    listed = finish_rendering(tmp_path)  # the next up's: its own kustomization is no resource
    assert kustomization(tmp_path) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["0-crd/clusterlink.net_exports.yaml",
                      "1-manifest/clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml",
                      "1-manifest/v1-secret-clusterlink-system-cl-peer.yaml"],
        "patches": [CRDS_FIRST]}  # its CRDs in an earlier Argo CD sync wave
    assert listed == kustomization(tmp_path)["resources"]
    assert sorted(listed + ["kustomization.yaml"]) == files(tmp_path)


def test_manifests_become_readable_but_secrets_stay_owner_only(tmp_path: Path):
    exported = write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    key = write(tmp_path, "v1-secret-clusterlink-system-cl-peer.yaml", secret())
    finish_rendering(tmp_path)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.rglob("*.yaml")}
    assert modes == {exported.name: 0o644, key.name: 0o600, "clusterlink.net_exports.yaml": 0o644,
                     "kustomization.yaml": 0o644}


def test_drift_ignores_what_finishing_wrote(tmp_path: Path):
    write(tmp_path, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    finish_rendering(tmp_path)
    state = {"resources": [{"urn": "urn:export", "type": "kubernetes:clusterlink.net/v1alpha1:Export",
                            "custom": True, "outputs": export()}]}
    assert rendered_drift(state, tmp_path) == []


def test_published_manifests_leave_the_secrets_out_of_files_and_kustomization(tmp_path: Path):
    stack, published = tmp_path / "rendered" / "east", tmp_path / "public" / "east"
    write(stack, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    write(stack, "v1-secret-clusterlink-system-cl-peer.yaml", secret())
    finish_rendering(stack)
    publish(stack, published)
    assert files(published) == ["0-crd/clusterlink.net_exports.yaml",
                                "1-manifest/clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml",
                                "kustomization.yaml"]
    assert kustomization(published)["resources"] == files(published)[:2]


def test_publishing_again_drops_what_the_stack_no_longer_declares(tmp_path: Path):
    stack, published = tmp_path / "rendered" / "east", tmp_path / "public" / "east"
    gone = write(stack, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    write(stack, "v1-namespace-default-bookinfo.yaml", namespace())
    finish_rendering(stack)
    publish(stack, published)
    gone.unlink()
    finish_rendering(stack)
    publish(stack, published)
    assert files(published) == ["1-manifest/v1-namespace-default-bookinfo.yaml", "kustomization.yaml"]


def test_the_publishing_command_publishes_each_rendered_stack_and_says_how_many_manifests(tmp_path: Path, capsys):
    write(tmp_path / "rendered" / "east", "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    finish_rendering(tmp_path / "rendered" / "east")
    main([str(tmp_path / "rendered"), str(tmp_path / "public")])
    assert capsys.readouterr().out == "east: 2 manifests published\n"
    assert files(tmp_path / "public" / "east")[-1] == "kustomization.yaml"


def test_the_publishing_command_without_its_folders_says_what_it_takes(capsys):
    with pytest.raises(SystemExit) as exit:
        main([])
    assert exit.value.code == 2
    assert "error: the following arguments are required: rendered, destination" in capsys.readouterr().err
