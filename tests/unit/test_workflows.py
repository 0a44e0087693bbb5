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
