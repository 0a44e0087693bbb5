"""Rotating the secrets passphrase on the real engine: every stack or none, and no secret lost."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from clusterfabric import Fabric
from clusterfabric.runner.passphrase import RotationError, _opens
from tests.example_fabric import unchanged
from tests.pulumi_project import copy_program, project

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

STACKS = ["central", "east", "west"]
PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


@pytest.fixture()
def fabric(tmp_path: Path) -> Fabric:
    directory = copy_program(tmp_path / "project")
    fabric = Fabric("config", project_dir=directory, env=project(directory).env)
    assert fabric.up(STACKS).ok
    return fabric


def passphrase_file(fabric: Fabric) -> Path:
    return Path(fabric.env["PULUMI_CONFIG_PASSPHRASE_FILE"])


def secret_outputs(fabric: Fabric) -> dict[str, dict]:
    return {s: {k: v.value for k, v in fabric._stack(s).outputs().items() if v.secret} for s in STACKS}


def test_rotation_re_encrypts_every_stack_and_keeps_its_secrets(fabric: Fabric):
    old = passphrase_file(fabric).read_text()
    before = secret_outputs(fabric)
    assert before["east"]["fabricCertificates"]["peers"]["east"]["key"].startswith("-----BEGIN PRIVATE KEY-----")

    assert fabric.rotate_passphrase() == STACKS

    new = passphrase_file(fabric).read_text()
    assert new != old and len(new) >= 32
    assert stat.S_IMODE(passphrase_file(fabric).stat().st_mode) == 0o600
    assert not passphrase_file(fabric).with_name("passphrase.new").exists()
    for stack in STACKS:
        assert _opens(fabric.env, fabric.project_dir, stack, new)
        assert not _opens(fabric.env, fabric.project_dir, stack, old)
    assert secret_outputs(fabric) == before
    state = Path(fabric.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    for checkpoint in state.rglob("*.json"):
        assert not PEM_KEY.search(checkpoint.read_text()), checkpoint
    again = fabric.up(STACKS)
    assert [(s.stack, set(s.changes)) for s in again.stacks] == [(s, unchanged(s)) for s in ["east", "west", "central"]]


def test_a_rotation_failing_on_one_stack_moves_the_others_back(fabric: Fabric):
    old = passphrase_file(fabric).read_text()
    # The last stack's config file is unreadable: its change fails after two stacks have moved.
    west_config = fabric.project_dir / "stacks" / "Pulumi.west.yaml"
    good = west_config.read_text()
    west_config.write_text("config: [unclosed\n")
    try:
        with pytest.raises(RotationError) as failure:
            fabric.rotate_passphrase()
    finally:
        west_config.write_text(good)
    message = str(failure.value)
    assert message.startswith("west: could not change its passphrase")
    assert "moved back: central, east; every stack keeps the current passphrase" in message
    assert passphrase_file(fabric).read_text() == old
    assert not passphrase_file(fabric).with_name("passphrase.new").exists()
    for stack in STACKS:
        assert _opens(fabric.env, fabric.project_dir, stack, old)
    assert json.loads(json.dumps(secret_outputs(fabric)))["east"]["fabricCertificates"]["ca"]
