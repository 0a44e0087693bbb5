"""fabric.yaml's `gitops.sopsAgeRecipients` of a cluster: age public keys, checked as age spells them."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterfabric.components.model.age import recipient_problem
from clusterfabric.components.model.errors import InputError
from clusterfabric.components.model.load import load_fabric_spec
from clusterfabric.gitops.sops import generate_identity
from clusterfabric.toolchain import PROJECT_DIR

# age's own test vector (filippo.io/age, testdata): a recipient as `age-keygen -y` prints it.
AGE_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"


def fabric_with(tmp_path: Path, gitops: str) -> Path:
    """A copy of the example fabric.yaml whose cluster east has `gitops` (YAML flow text)."""
    text = (PROJECT_DIR / "config" / "fabric.yaml").read_text()
    marker = "labels: {region: us-east, env: prod}\n"
    assert marker in text
    (tmp_path / "fabric.yaml").write_text(text.replace(marker, marker + f"    gitops: {gitops}\n", 1))
    return tmp_path


def test_a_clusters_age_recipients_are_read_from_fabric_yaml(tmp_path: Path):
    spec = load_fabric_spec(fabric_with(tmp_path, f"{{sopsAgeRecipients: [{AGE_RECIPIENT}]}}"))
    assert spec.cluster("east").gitops.sopsAgeRecipients == [AGE_RECIPIENT]
    assert spec.cluster("west").gitops.sopsAgeRecipients == []


def test_a_mistyped_recipient_is_refused_naming_the_file_the_cluster_and_the_field(tmp_path: Path):
    mistyped = AGE_RECIPIENT[:-1] + "k"
    with pytest.raises(InputError) as refused:
        load_fabric_spec(fabric_with(tmp_path, f"{{sopsAgeRecipients: [{mistyped}]}}"))
    [problem] = refused.value.problems
    assert problem.file.endswith("fabric.yaml")
    assert problem.field == "clusters[0].gitops.sopsAgeRecipients[0]"
    assert problem.message.endswith("its bech32 checksum is wrong (a character mistyped or lost?)")


def test_a_recipient_listed_twice_is_refused(tmp_path: Path):
    with pytest.raises(InputError) as refused:
        load_fabric_spec(fabric_with(tmp_path, f"{{sopsAgeRecipients: [{AGE_RECIPIENT}, {AGE_RECIPIENT}]}}"))
    assert "sopsAgeRecipients[1]: " + repr(AGE_RECIPIENT) + " is listed twice" in str(refused.value)


def test_an_ssh_key_or_an_identity_is_no_recipient():
    identity, _ = generate_identity()
    assert recipient_problem("ssh-ed25519 AAAAC3Nza") == ("an age recipient starts with 'age1' (an age public key, "
                                                          "as `age-keygen -y` prints it)")
    assert recipient_problem(identity).startswith("an age recipient starts with 'age1'")
    assert recipient_problem(AGE_RECIPIENT[:-2]) == "an age recipient is 62 characters long, this one 60"


def test_generated_recipients_are_valid_and_differ_each_time():
    (identity, first), (_, second) = generate_identity(), generate_identity()
    assert (recipient_problem(first), recipient_problem(second)) == (None, None)
    assert first != second and identity.startswith("AGE-SECRET-KEY-1") and len(identity) == 74


def test_the_example_fabric_declares_no_recipient_so_its_published_secrets_stay_out():
    assert all(c.gitops.sopsAgeRecipients == [] for c in load_fabric_spec(PROJECT_DIR / "config").clusters)
