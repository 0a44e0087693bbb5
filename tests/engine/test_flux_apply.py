"""A published stack folder judged by Flux's own code: the example's `east`, rendered by a real `up` with age
recipients set in its fabric.yaml, published with its Secrets encrypted by the real `sops`, then applied to a real
local API server of its own by `flux-apply` (toolchain/flux: fluxcd/pkg/kustomize's generator and secure build,
sops/v3's decryption, fluxcd/pkg/ssa's staged server-side apply), as Flux's kustomize-controller would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.gitops.rendered import main as publish_main
from clusterfabric.gitops.sops import decrypt_file, generate_identity
from clusterfabric.local.apiserver import ControlPlane, control_planes, start_all
from clusterfabric.toolchain import TOOLS
from tests.pulumi_project import copy_program

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

FLUX_APPLY = TOOLS / "bin" / "flux-apply"
EAST = "labels: {region: us-east, env: prod}\n"


def flux_apply(folder: Path, plane: ControlPlane, identity: str, *flags: str) -> dict[str, list[dict[str, str]]]:
    """flux-apply's change sets: {"dryRun": [...], "apply": [...]}, each entry {"subject", "action"}."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")} | {"SOPS_AGE_KEY": identity}
    done = subprocess.run([str(FLUX_APPLY), "--kubeconfig", str(plane.kubeconfig), *flags, str(folder)],
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """east brought up (rendering), published for a fresh age key, applied twice to an API server without CRDs."""
    assert FLUX_APPLY.is_file(), "flux-apply is built by `scripts/setup test` (toolchain/flux)"
    root = tmp_path_factory.mktemp("flux")
    directory = copy_program(root / "project")
    identity, recipient = generate_identity()
    fabric_file = directory / "config" / "fabric.yaml"
    assert EAST in fabric_file.read_text()
    fabric_file.write_text(fabric_file.read_text().replace(
        EAST, EAST + f"    gitops: {{sopsAgeRecipients: [{recipient}]}}\n", 1))
    [result] = Fabric("config", project_dir=directory).up(["east"]).stacks
    assert result.result == "succeeded", result.message
    publish_main([str(directory / "rendered"), str(root / "published"), "--fabric", str(directory / "config")])
    planes = control_planes(["east"], root / "apiservers")
    try:
        start_all(planes, None, progress=lambda line: None)  # no CRDs: the folder brings its own
        plane = planes["east"]
        folder = root / "published" / "east"
        yield {"rendered": directory / "rendered" / "east", "published": folder, "plane": plane, "identity": identity,
               "dry run": flux_apply(folder, plane, identity, "--dry-run")["dryRun"],
               "first": flux_apply(folder, plane, identity)["apply"],
               "second": flux_apply(folder, plane, identity)}
    finally:
        for plane in planes.values():
            plane.stop()


def rendered_secrets(rendered: Path) -> dict[tuple[str, str], dict]:
    secrets = [yaml.safe_load(p.read_text()) for p in sorted(rendered.rglob("v1-secret-*.yaml"))]
    return {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in secrets}


def test_the_published_folder_holds_the_four_clusterlink_secrets_encrypted(synced):
    published = [yaml.safe_load(p.read_text()) for p in synced["published"].rglob("v1-secret-*.yaml")]
    assert sorted(s["metadata"]["name"] for s in published) == ["cl-ca", "cl-controlplane", "cl-dataplane", "cl-peer"]
    assert all(v.startswith("ENC[AES256_GCM,") for s in published for v in s["data"].values())


def test_sops_decrypts_each_published_secret_to_exactly_the_rendered_one(synced):
    for (namespace, name), secret in rendered_secrets(synced["rendered"]).items():
        [published] = synced["published"].rglob(f"v1-secret-{namespace}-{name}.yaml")
        assert yaml.safe_load(decrypt_file(published, synced["identity"])) == secret, name


def test_no_published_file_holds_a_private_key_or_the_age_identity(synced):
    secrets = rendered_secrets(synced["rendered"]).values()
    values = [value for s in secrets for value in s["data"].values()]
    plain = [base64.b64decode(value).decode() for value in values]
    needles = values + [line for text in plain for line in text.splitlines() if len(line) > 40] + [
        "PRIVATE KEY", synced["identity"], "AGE-SECRET-KEY-"]
    texts = [p.read_text() for p in synced["published"].rglob("*") if p.is_file()]
    assert len(texts) > 10 and len(needles) > 20
    assert [n for n in needles if any(n in t for t in texts)] == []


def test_the_secrets_in_the_cluster_are_the_ones_the_stack_declared(synced):
    client = synced["plane"].client()
    declared = rendered_secrets(synced["rendered"])
    assert len(declared) == 4
    for (namespace, name), secret in declared.items():
        live = client.read("v1", "Secret", name, namespace)
        assert live["data"] == secret["data"], name
    keys = [base64.b64decode(value) for s in declared.values() for field, value in s["data"].items() if "key" in field]
    assert len(keys) == 3 and all(b"PRIVATE KEY-----" in key for key in keys)  # real keys, decrypted


def test_the_dry_run_reports_every_object_to_be_created(synced):
    assert synced["dry run"] and {e["action"] for e in synced["dry run"]} == {"created"}


def test_the_crds_are_applied_before_the_objects_of_their_kinds(synced):
    applied = [e["subject"] for e in synced["first"]]
    crds = [i for i, s in enumerate(applied) if s.startswith("CustomResourceDefinition/")]
    custom = [i for i, s in enumerate(applied) if s.split("/")[0] in ("Export", "AccessPolicy")]
    assert len(crds) == 2 and custom and max(crds) < min(custom)
    assert {e["action"] for e in synced["first"]} == {"created"}


def test_a_second_apply_changes_nothing(synced):
    second = synced["second"]
    assert {e["action"] for e in second["dryRun"]} == {e["action"] for e in second["apply"]} == {"unchanged"}
    assert [e["subject"] for e in second["apply"]] == [e["subject"] for e in synced["first"]]
