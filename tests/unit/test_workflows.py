"""The GitHub workflows are valid and shell-clean, as actionlint (with shellcheck on each run: block) sees them.

actionlint is built by `scripts/setup test` into .tools/bin (toolchain/actionlint), shellcheck is
Debian's package (same step as iperf3 and nftables).
"""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("dataplane, max_jobs", [("lattice", 256), ("clusterlink", 20)],
                         ids=["a-job-per-stack", "a-matrix-job-per-wave"])
def test_the_stack_workflow_of_a_generated_fabric_passes_actionlint(shellcheck: str, tmp_path: Path, dataplane: str,
                                                                     max_jobs: int):
    from bench.generate import Shape, generate
    from clusterfabric.components.model import load_fabric
    from clusterfabric.gitops.emit import WORKFLOW_FILE, dump, github_workflow

    fabric = load_fabric(generate(tmp_path / "fabric", Shape(clusters=50, exports=2, imports=2, dataplane=dataplane)))
    repository = tmp_path / "repository"
    shutil.copytree(PROJECT_DIR / ".github" / "actions", repository / ".github" / "actions")
    workflow = repository / WORKFLOW_FILE
    workflow.parent.mkdir(parents=True)
    workflow.write_text(dump([github_workflow(fabric, max_jobs)], "generated"))
    subprocess.run(["git", "init", "-q"], cwd=repository, check=True)
    result = actionlint(shellcheck, repository, workflow)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert len(yaml.safe_load(workflow.read_text())["jobs"]) == (50 if max_jobs == 256 else 4)  # 1 + 49 in 3 parts


DEPLOYED = "refs/clusterfabric/deployed"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def repository(tmp_path: Path) -> Path:
    """A clone of an `origin` (a bare repository) with three commits (HEAD the last), as a deploy job's
    checkout; the toolchain's commands stood in for by scripts that say how they were called."""
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    for message in ("first", "second", "third"):
        git(clone, "commit", "-q", "--allow-empty", "-m", message)
    git(clone, "push", "-q", "origin", "HEAD")
    venv = tmp_path / "toolchain" / "bin"  # what the toolchain action puts on PATH
    venv.mkdir(parents=True)
    (venv / "clusterfabric").write_text('#!/bin/sh\necho "clusterfabric $*"\n')
    # `python -m clusterfabric.gitops.changed --base REF`: the stacks CHANGED names, after what REF resolves to.
    (venv / "python").write_text('#!/bin/sh\necho "changed since $(git rev-parse "$4")" >&2\n'
                                 'for s in $CHANGED; do echo "$s"; done\n')
    for stub in venv.iterdir():
        stub.chmod(0o755)
    return clone


def deploy_step(repository: Path, name: str, event: str = "push", changed: str = "east central",
                deployed: str | None = None, spread: bool = False, job: str = "up") -> subprocess.CompletedProcess[str]:
    """deploy.yml's step `name` of `job` run in `repository`, for a run of `event`, `deployed` (a commit) the last
    deployed one recorded in origin (None: nothing recorded yet), `spread` as vars.CLUSTERFABRIC_SPREAD; what it
    wrote to $GITHUB_OUTPUT is in the repository's parent, `output`."""
    [step] = [s for s in yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"][job]["steps"]
              if s.get("name") == name]
    if deployed:
        git(repository, "push", "-q", "origin", f"{deployed}:{DEPLOYED}")
    venv = repository.parent / "toolchain" / "bin"
    return subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repository, capture_output=True,
                          text=True, env={"PATH": f"{venv}:/usr/bin:/bin", "EVENT_NAME": event, "CHANGED": changed,
                                          "HOME": str(repository.parent), "SPREAD": str(spread).lower(),
                                          "GITHUB_OUTPUT": str(repository.parent / "output")})


UP = "Up the changed stacks, destroy the removed ones"


def commands(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("clusterfabric ")]


def test_a_deploy_brings_up_the_stacks_changed_since_the_last_deployed_commit(repository: Path):
    first = git(repository, "rev-parse", "HEAD~2")  # the second's deploy was cancelled, or failed
    done = deploy_step(repository, UP, deployed=first)
    assert f"changed since {first}" in done.stderr  # not the push's `before` (HEAD~1): what was last deployed
    assert commands(done) == ["clusterfabric up --parallel 2 --stack east --stack central",
                              "clusterfabric destroy --removed --yes"]


def test_with_no_deployed_commit_recorded_every_stack_is_brought_up(repository: Path):
    assert commands(deploy_step(repository, UP)) == ["clusterfabric up --parallel 2",
                                                     "clusterfabric destroy --removed --yes"]


def test_a_workflow_dispatch_brings_up_every_stack(repository: Path):
    done = deploy_step(repository, UP, event="workflow_dispatch", deployed=git(repository, "rev-parse", "HEAD~1"))
    assert commands(done) == ["clusterfabric up --parallel 2", "clusterfabric destroy --removed --yes"]


def test_with_nothing_changed_only_the_removed_stacks_are_destroyed(repository: Path):
    done = deploy_step(repository, UP, changed="", deployed=git(repository, "rev-parse", "HEAD"))
    assert commands(done) == ["clusterfabric destroy --removed --yes"]


def test_a_run_older_than_the_deployed_commit_deploys_nothing(repository: Path):
    second = git(repository, "rev-parse", "HEAD")
    git(repository, "reset", "-q", "--hard", "HEAD~1")  # a re-run of an older push's run
    done = deploy_step(repository, UP, deployed=second)
    assert done.returncode == 1 and "newer than this run's commit" in done.stdout
    assert "clusterfabric " not in done.stdout


def spread_workflow(repository: Path, text: str) -> None:
    """The repository's generated stack workflow (the stub `clusterfabric graph ...` prints its command line)."""
    workflow = repository / ".github" / "workflows" / "fabric-stacks.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(text)


def test_a_spread_deploy_hands_the_changed_stacks_to_the_stack_workflow_and_brings_up_none(repository: Path):
    spread_workflow(repository, "clusterfabric graph --format github-actions\n")
    done = deploy_step(repository, UP, deployed=git(repository, "rev-parse", "HEAD~1"), spread=True)
    assert commands(done) == []  # the graph compared (equal, so diff printed nothing); no up, no destroy
    assert (repository.parent / "output").read_text() == "spread=true\nstacks=east central\n"


def test_a_spread_full_run_hands_every_stack_to_the_stack_workflow(repository: Path):
    spread_workflow(repository, "clusterfabric graph --format github-actions\n")
    assert deploy_step(repository, UP, spread=True).returncode == 0
    assert (repository.parent / "output").read_text() == "spread=true\nstacks=*\n"


def test_a_spread_deploy_with_a_stale_stack_workflow_deploys_nothing(repository: Path):
    spread_workflow(repository, "an older fabric's graph\n")
    done = deploy_step(repository, UP, spread=True)
    assert done.returncode == 1 and "fabric-stacks.yml is not this fabric's graph" in done.stdout
    assert not (repository.parent / "output").exists()


def test_after_the_stack_jobs_their_rendered_folders_are_gathered_and_the_removed_stacks_destroyed(repository: Path):
    for stack in ("east", "central"):  # what download-artifact makes of the artifacts stack-east, stack-central
        (repository / "stacks" / f"stack-{stack}" / "1-manifest").mkdir(parents=True)
        (repository / "stacks" / f"stack-{stack}" / "1-manifest" / "v1-service.yaml").write_text(stack)
    done = deploy_step(repository, "Destroy the removed stacks; gather the stacks' rendered folders", job="finish")
    assert commands(done) == ["clusterfabric destroy --removed --yes"]
    assert sorted(str(p.relative_to(repository)) for p in (repository / "rendered").rglob("*.yaml")) == [
        "rendered/central/1-manifest/v1-service.yaml", "rendered/east/1-manifest/v1-service.yaml"]


def test_a_successful_deploy_records_its_commit_as_deployed(repository: Path):
    done = deploy_step(repository, "Record this commit as deployed", deployed=git(repository, "rev-parse", "HEAD~1"))
    assert done.returncode == 0, done.stderr
    assert git(repository, "ls-remote", "origin", DEPLOYED).split()[0] == git(repository, "rev-parse", "HEAD")
    steps = [s.get("name") for s in yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())["jobs"]["up"]["steps"]]
    assert steps[-1] == "Record this commit as deployed"  # after everything else succeeded


def test_the_deploy_job_runs_in_the_production_environment_with_its_role():
    workflow = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    job = workflow["jobs"]["up"]
    assert job["environment"] == "production" and "workflow_dispatch" in workflow[True]
    roles = {path.name: re.findall(r"role-to-assume: \$\{\{ vars\.(\w+) \}\}", path.read_text())
             for path in sorted(WORKFLOWS.glob("*.yml"))}
    assert roles == {"deploy.yml": ["AWS_DEPLOY_ROLE_ARN"] * 2, "drift.yml": ["AWS_PREVIEW_ROLE_ARN"],
                     "fabric-stacks.yml": ["AWS_DEPLOY_ROLE_ARN"] * 6, "pr-comment.yml": [],
                     "pr-preview.yml": ["AWS_PREVIEW_ROLE_ARN"]}  # the up and finish jobs; a job per example stack
    stack_jobs = yaml.safe_load((WORKFLOWS / "fabric-stacks.yml").read_text())["jobs"].values()
    assert {job["environment"] for job in [workflow["jobs"]["finish"], *stack_jobs]} == {"production"}


def test_the_pulumi_access_token_goes_wherever_the_backend_does():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert text.count("PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}") == text.count(
            "PULUMI_BACKEND_URL: ${{ secrets.PULUMI_BACKEND_URL }}"), path.name


def test_a_fabric_repositorys_workflows_and_actions_pass_actionlint_and_shellcheck(shellcheck: str, tmp_path: Path):
    from clusterfabric.runner.init import init_fabric

    init_fabric(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)  # actionlint finds the workflows by the repository
    result = actionlint(shellcheck, tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert shellcheck_actions(shellcheck, tmp_path, scratch) == (0, "")
FAKE_GITHUB = """
const fs = require('fs');
const state = JSON.parse(fs.readFileSync('fake.json', 'utf8'));
const calls = [];
const record = name => async params => { calls.push([name, params]); return { data: {} }; };
const github = {
  paginate: async (list, params) => (await list(params)).data,
  rest: {
    issues: {
      listComments: async () => ({ data: state.comments || [] }),
      listForRepo: async params => ({ data: (state.issues || []).filter(i => i.user.login === params.creator) }),
      updateComment: record('updateComment'), createComment: record('createComment'),
      update: record('update'), create: record('create'),
    },
    pulls: { get: async () => ({ data: { head: { sha: 'abc' } } }) },
  },
};
const context = { repo: { owner: 'o', repo: 'r' }, serverUrl: 'https://github.com', runId: 7,
                  payload: { workflow_run: { head_sha: 'abc', html_url: 'https://github.com/o/r/actions/runs/7' } } };
const core = { setFailed: message => calls.push(['setFailed', message]) };
(async () => {
SCRIPT
})().then(() => console.log(JSON.stringify(calls)));
"""


def github_script(tmp_path: Path, workflow: str, files: dict[str, str], fake: dict) -> list[list]:
    """The calls the workflow's actions/github-script step makes, run by Node.js against a fake `github` holding
    `fake` (comments, issues), in a directory holding `files`."""
    [step] = [s for job in yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"].values() for s in job["steps"]
              if s.get("uses", "").startswith("actions/github-script@")]
    for name, text in {**files, "fake.json": json.dumps(fake)}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "run.js").write_text(FAKE_GITHUB.replace("SCRIPT", step["with"]["script"]))
    done = subprocess.run(["node", "run.js"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [[name, {k: v for k, v in params.items() if k in ("comment_id", "issue_number", "state")}]
            for name, params in json.loads(done.stdout)]


BOT = {"login": "github-actions[bot]", "type": "Bot"}
MARKER = "<!-- clusterfabric:pr-preview -->"


def test_the_comment_job_edits_only_its_own_bots_comment(tmp_path: Path):
    someone = {"login": "mallory", "type": "User"}
    files = {"pr/number": "5\n", "pr/comment.md": f"{MARKER}\n## clusterfabric preview\n"}
    comments = [{"id": 1, "user": someone, "body": f"{MARKER} quoted"}]
    assert github_script(tmp_path, "pr-comment.yml", files, {"comments": comments}) == [
        ["createComment", {"issue_number": 5}]]
    comments.append({"id": 2, "user": BOT, "body": f"{MARKER}\nold"})
    assert github_script(tmp_path, "pr-comment.yml", files, {"comments": comments}) == [
        ["updateComment", {"comment_id": 2}]]


def test_the_comment_job_runs_one_at_a_time_per_pull_request():
    concurrency = yaml.safe_load((WORKFLOWS / "pr-comment.yml").read_text())["concurrency"]
    assert "workflow_run.pull_requests[0].number" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False


def drift_files(status: int) -> dict[str, str]:
    return {"drift/status": f"{status}\n", "drift/table.txt": "stack  result     create  update\neast   succeeded  0  1\n"}


def test_the_drift_check_updates_its_issue_instead_of_opening_another(tmp_path: Path):
    marker = "<!-- clusterfabric:drift -->"
    issues = [{"number": 3, "state": "open", "user": {"login": "mallory"}, "body": marker},
              {"number": 4, "state": "closed", "user": BOT, "body": f"{marker}\nNo drift found"}]
    assert github_script(tmp_path, "drift.yml", drift_files(4), {"issues": issues[:1]}) == [["create", {}]]
    assert github_script(tmp_path, "drift.yml", drift_files(4), {"issues": issues}) == [
        ["update", {"issue_number": 4, "state": "open"}]]


def test_the_drift_check_closes_its_issue_once_nothing_drifts(tmp_path: Path):
    issue = {"number": 4, "state": "open", "user": BOT, "body": "<!-- clusterfabric:drift -->"}
    assert github_script(tmp_path, "drift.yml", drift_files(0), {"issues": [issue]}) == [
        ["update", {"issue_number": 4, "state": "closed"}]]
    assert github_script(tmp_path, "drift.yml", drift_files(0), {"issues": []}) == []
