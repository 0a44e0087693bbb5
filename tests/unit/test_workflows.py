"""The GitHub workflows are valid and shell-clean, as actionlint (with shellcheck on each run: block) sees them.

actionlint is built by `scripts/setup test` into .tools/bin (toolchain/actionlint), shellcheck is
Debian's package (same step as iperf3 and nftables).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from clusterfabric.toolchain import PROJECT_DIR

ACTIONLINT = PROJECT_DIR / ".tools" / "bin" / "actionlint"
WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
PINNED = re.compile(r"^(\./.*|[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40}))$")


@pytest.fixture(scope="module")
def shellcheck() -> str:
    found = shutil.which("shellcheck")
    assert found and ACTIONLINT.is_file(), "actionlint and shellcheck are installed by `scripts/setup test`"
    return found


def actionlint(shellcheck: str, cwd: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """actionlint as CI would run it; -shellcheck named, since actionlint silently skips it when not found."""
    return subprocess.run([str(ACTIONLINT), "-no-color", "-shellcheck", shellcheck, *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_workflows_pass_actionlint_and_shellcheck(shellcheck: str):
    result = actionlint(shellcheck, PROJECT_DIR)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_a_shellcheck_finding_in_a_run_block_fails_the_check(shellcheck: str, tmp_path: Path):
    workflow = tmp_path / ".github" / "workflows" / "broken.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\njobs:\n  up:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: clusterfabric up $(printf -- '--stack %s ' $stacks)\n")
    result = actionlint(shellcheck, tmp_path, workflow)
    assert result.returncode == 1
    assert "SC2046" in result.stdout and "SC2086" in result.stdout


def test_every_action_is_pinned_to_a_release_or_commit():
    used = [m.group(1) for path in sorted(PROJECT_DIR.glob(".github/**/*.yml"))
            for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(), re.M)]
    assert used and [u for u in used if not PINNED.match(u)] == []


def test_no_step_turns_a_failure_into_success():
    masked = [(p.name, line.strip()) for p in sorted(WORKFLOWS.glob("*.yml")) for line in p.read_text().splitlines()
              if re.search(r"\|\|\s*(echo|true|:)\b", line) or "continue-on-error: true" in line]
    assert masked == []


def shellcheck_actions(shellcheck: str, repository: Path, scratch: Path) -> tuple[int, str]:
    """shellcheck over the run: blocks of the repository's composite actions (actionlint checks the workflows'
    only); (status, findings), status 2 when there were none to check."""
    scripts = []
    for path in sorted(repository.glob(".github/actions/*/action.yml")):
        for number, step in enumerate(yaml.safe_load(path.read_text())["runs"]["steps"]):
            if "run" in step:
                script = scratch / f"{path.parent.name}-{number}.sh"
                script.write_text("#!/usr/bin/env bash\n" + step["run"])
                scripts.append(str(script))
    if not scripts:
        return 2, "no run: block"
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
    return result.returncode, result.stdout


def test_the_composite_actions_run_blocks_are_shellcheck_clean(shellcheck: str, tmp_path: Path):
    assert shellcheck_actions(shellcheck, PROJECT_DIR, tmp_path) == (0, "")


def deploy_selection(tmp_path: Path, before: str) -> list[str]:
    """The arguments deploy.yml's up step gives `clusterfabric up` for a push whose `before` is `before`,
    run in a git repository with one commit, the fabric layer stood in for by scripts that echo."""
    [step] = [s for s in yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]["up"]["steps"]
              if s.get("name") == "Up the changed stacks"]
    venv = tmp_path / "toolchain" / "bin"  # what the toolchain action puts on PATH
    venv.mkdir(parents=True)
    (venv / "clusterfabric").write_text("#!/bin/sh\necho \"$@\"\n")
    (venv / "python").write_text("#!/bin/sh\necho east; echo central\n")  # `clusterfabric.gitops.changed`
    for stub in venv.iterdir():
        stub.chmod(0o755)
    for command in (["init", "-q"], ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
                                      "--allow-empty", "-m", "fabric"]):
        subprocess.run(["git", *command], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True, capture_output=True,
                          text=True).stdout.strip()
    result = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, capture_output=True,
                            text=True, env={"PATH": f"{venv}:/usr/bin:/bin", "BEFORE": before.replace("HEAD", head)})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1].split()


def test_a_first_push_without_an_earlier_commit_deploys_every_stack(tmp_path: Path):
    assert deploy_selection(tmp_path, "0" * 40) == ["up", "--parallel", "2"]


def test_a_push_deploys_the_stacks_its_change_affects(tmp_path: Path):
    assert deploy_selection(tmp_path, "HEAD") == ["up", "--parallel", "2", "--stack", "east", "--stack", "central"]


def test_a_fabric_repositorys_workflows_and_actions_pass_actionlint_and_shellcheck(shellcheck: str, tmp_path: Path):
    from clusterfabric.runner.init import init_fabric

    init_fabric(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)  # actionlint finds the workflows by the repository
    result = actionlint(shellcheck, tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert shellcheck_actions(shellcheck, tmp_path, scratch) == (0, "")
