"""Misuse and secrets on the real engine: concurrent runs of a stack, key material in what a run leaves behind."""

from __future__ import annotations

import base64
import re
import stat
import subprocess
from pathlib import Path

import pytest

from clusterfabric.gitops.comment import render
from clusterfabric.runner.results import FabricResult, StackResult
from clusterfabric.components.model import load_fabric
from tests.pulumi_project import PulumiProject, copy_program, pulumi_command, project

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


@pytest.fixture(scope="module")
def fabric(tmp_path_factory: pytest.TempPathFactory) -> PulumiProject:
    proj = project(copy_program(tmp_path_factory.mktemp("reliability") / "project"))
    for stack in ("east", "west", "central"):
        proj.init_stack(stack)
    proj.transcript = [proj.up(stack) for stack in ("east", "west", "central")]  # type: ignore[attr-defined]
    return proj


def start_up(proj: PulumiProject, stack: str) -> subprocess.Popen:
    return subprocess.Popen([pulumi_command(proj.env), "up", "--yes", "--skip-preview", "--stack", stack,
                             "--non-interactive"], cwd=proj.directory, env=proj.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_ups_of_one_stack_at_once_one_proceeds_the_other_is_refused(fabric: PulumiProject):
    first, second = start_up(fabric, "central"), start_up(fabric, "central")
    results = [(p.wait(timeout=600), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] != 0
    refused = next(out + err for code, out, err in results if code != 0)
    assert "currently locked" in refused or "concurrent update" in refused.lower(), refused
    assert "Traceback" not in refused
    # The state is whole: a further up has nothing to do.
    fabric.up("central", "--expect-no-changes")


def test_two_different_stacks_at_once_both_succeed(fabric: PulumiProject):
    runs = [start_up(fabric, "west"), start_up(fabric, "central")]
    assert [p.wait(timeout=600) for p in runs] == [0, 0]


def key_material(fabric: PulumiProject) -> list[str]:
    """Every private key the fabric holds, as PEM and as its base64 body (from the rendered Secrets)."""
    import yaml

    keys = []
    for path in (fabric.directory / "rendered").rglob("v1-secret-*cl-peer.yaml"):
        pem = base64.b64decode(yaml.safe_load(path.read_text())["data"]["key.pem"]).decode()
        body = "".join(pem.strip().splitlines()[1:-1])
        keys += [pem, body[:40]]
    assert len(keys) == 6
    return keys


def test_no_key_appears_in_the_state_files(fabric: PulumiProject):
    backend = Path(fabric.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    state = "\n".join(p.read_text(errors="replace") for p in backend.rglob("*") if p.is_file())
    assert not PEM_KEY.search(state)
    assert not [k for k in key_material(fabric) if k in state]


def test_no_key_appears_in_the_cli_output_or_logs(fabric: PulumiProject):
    output = "\n".join(r.stdout + r.stderr for r in fabric.transcript)  # type: ignore[attr-defined]
    output += fabric.pulumi("stack", "output", "--json", "--stack", "east").stdout
    logs = "\n".join(p.read_text(errors="replace") for p in (fabric.directory / ".pulumi").rglob("*.log"))
    assert not PEM_KEY.search(output + logs)
    assert not [k for k in key_material(fabric) if k in output + logs]
    assert '"fabricCertificates": "[secret]"' in output


def test_no_key_appears_in_the_pr_comment(fabric: PulumiProject):
    model = load_fabric(fabric.directory / "config")
    steps = [{"op": "update", "urn": "urn:pulumi:east::clusterfabric::kubernetes:core/v1:Secret::east-cl-peer",
              "type": "kubernetes:core/v1:Secret", "diffs": ["stringData"]}]
    text = render(FabricResult("preview", [StackResult("east", "preview", "succeeded", steps=steps)]), model,
                  {"east"}, "main")
    assert not PEM_KEY.search(text) and not [k for k in key_material(fabric) if k in text]


def test_rendered_secrets_are_readable_by_their_owner_only(fabric: PulumiProject):
    secrets = list((fabric.directory / "rendered").rglob("v1-secret-*.yaml"))
    assert len(secrets) == 12
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    ignored = subprocess.run(["git", "check-ignore", "-q", "rendered/east/x.yaml"], cwd=Path(__file__).parents[2])
    assert ignored.returncode == 0, "rendered/ must be git-ignored"
