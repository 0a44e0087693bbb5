"""The published form of a stack carries its Secrets encrypted with SOPS for the cluster's age recipients, decrypted
by the real `sops` (built by `scripts/setup test` from toolchain/sops) to exactly what was rendered; never in
plaintext; left out, and said so, for a cluster with no recipient."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from clusterfabric.gitops.rendered import finish_rendering, main, publish
from clusterfabric.gitops.sops import decrypt_file, generate_identity
from tests.unit.test_gitops_recipients import fabric_with
from tests.unit.test_rendered import export, files, write

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBx0c2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END EC PRIVATE KEY-----\n"
SECRET = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
          "metadata": {"name": "cl-peer", "namespace": "clusterlink-system", "labels": {"app": "cl-peer"}},
          "data": {"tls.key": base64.b64encode(KEY.encode()).decode(), "tls.crt": base64.b64encode(b"CERT").decode()},
          "stringData": {"note": "plain words"}}
SECRET_FILE = "1-manifest/v1-secret-clusterlink-system-cl-peer.yaml"


@pytest.fixture()
def stack(tmp_path: Path) -> Path:
    stack = tmp_path / "rendered" / "east"
    write(stack, "clusterlink.net_v1alpha1-export-bookinfo-reviews.yaml", export())
    write(stack, Path(SECRET_FILE).name, SECRET)
    finish_rendering(stack)
    return stack


def test_sops_decrypts_the_published_secret_to_exactly_the_rendered_one(stack: Path, tmp_path: Path):
    identity, recipient = generate_identity()
    publish(stack, tmp_path / "public" / "east", [recipient])
    decrypted = decrypt_file(tmp_path / "public" / "east" / SECRET_FILE, identity)
    assert yaml.safe_load(decrypted) == yaml.safe_load((stack / SECRET_FILE).read_text()) == SECRET


def test_only_data_and_string_data_are_encrypted_the_rest_stays_readable(stack: Path, tmp_path: Path):
    _, recipient = generate_identity()
    publish(stack, tmp_path / "public" / "east", [recipient])
    published = yaml.safe_load((tmp_path / "public" / "east" / SECRET_FILE).read_text())
    assert {k: published[k] for k in ("apiVersion", "kind", "type", "metadata")} == {
        k: SECRET[k] for k in ("apiVersion", "kind", "type", "metadata")}
    values = [*published["data"].values(), *published["stringData"].values()]
    assert values and all(v.startswith("ENC[AES256_GCM,data:") for v in values)
    assert published["sops"]["encrypted_regex"] == "^(data|stringData)$"
    assert [r["recipient"] for r in published["sops"]["age"]] == [recipient]


def test_no_published_file_holds_the_key_in_plaintext_or_base64_and_none_holds_an_identity(stack: Path,
                                                                                        tmp_path: Path):
    identity, recipient = generate_identity()
    publish(stack, tmp_path / "public" / "east", [recipient])
    texts = [p.read_text() for p in (tmp_path / "public").rglob("*") if p.is_file()]
    assert len(texts) == 4  # the CRD, the Export, the Secret, the kustomization
    for needle in ("PRIVATE KEY", SECRET["data"]["tls.key"], "plain words", "AGE-SECRET-KEY-", identity):
        assert not [t for t in texts if needle in t], needle


def test_each_recipient_alone_can_decrypt(stack: Path, tmp_path: Path):
    (first, first_recipient), (second, second_recipient) = generate_identity(), generate_identity()
    publish(stack, tmp_path / "public" / "east", [first_recipient, second_recipient])
    path = tmp_path / "public" / "east" / SECRET_FILE
    assert yaml.safe_load(decrypt_file(path, first)) == yaml.safe_load(decrypt_file(path, second)) == SECRET


def test_the_kustomization_names_the_encrypted_secret_with_the_other_manifests(stack: Path, tmp_path: Path):
    _, recipient = generate_identity()
    published = publish(stack, tmp_path / "public" / "east", [recipient])
    assert (published.encrypted, published.left_out) == (1, 0)
    listed = yaml.safe_load((tmp_path / "public" / "east" / "kustomization.yaml").read_text())["resources"]
    assert listed == published.files == [f for f in files(tmp_path / "public" / "east") if f != "kustomization.yaml"]
    assert SECRET_FILE in listed


def test_the_command_encrypts_for_the_recipients_fabric_yaml_declares(stack: Path, tmp_path: Path, capsys):
    identity, recipient = generate_identity()
    (tmp_path / "fabric").mkdir()
    fabric = fabric_with(tmp_path / "fabric", f"{{sopsAgeRecipients: [{recipient}]}}")
    main([str(stack.parent), str(tmp_path / "public"), "--fabric", str(fabric)])
    assert capsys.readouterr().out == ("east: 3 manifests published, its 1 Secret among them encrypted with SOPS "
                                       "for 1 age recipient\n")
    assert yaml.safe_load(decrypt_file(tmp_path / "public" / "east" / SECRET_FILE, identity)) == SECRET


def test_the_command_leaves_the_secrets_out_for_a_cluster_without_recipients_and_says_so(stack: Path,
                                                                                      tmp_path: Path, capsys):
    main([str(stack.parent), str(tmp_path / "public"), "--fabric", "config"])
    assert capsys.readouterr().out == ("east: 2 manifests published; its 1 Secret left out (no "
                                       "gitops.sopsAgeRecipients for cluster east in config/fabric.yaml: "
                                       "docs/secrets.md)\n")
    assert SECRET_FILE not in files(tmp_path / "public" / "east")


def test_the_sops_a_fabric_repository_builds_in_ci_is_the_one_toolchain_sops_pins():
    from clusterfabric.gitops.sops import SOPS_VERSION
    from clusterfabric.runner.init import _toolchain_action
    from clusterfabric.toolchain import PROJECT_DIR

    go_mod = (PROJECT_DIR / "toolchain" / "sops" / "go.mod").read_text()
    assert f"require github.com/getsops/sops/v3 {SOPS_VERSION}\n" in go_mod
    steps = yaml.safe_load(_toolchain_action())["runs"]["steps"]
    assert f"go install github.com/getsops/sops/v3/cmd/sops@{SOPS_VERSION}" in steps[-1]["run"]
    assert steps[-1]["if"] == "inputs.offline != 'true' && inputs.sops == 'true'"
