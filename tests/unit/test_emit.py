"""The fabric's graph for engines that spread the runs (clusterfabric/gitops/emit.py): a GitHub Actions workflow
and Pulumi Kubernetes Operator Stacks, their edges the fabric layer's own run order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.generate import Shape, generate
from clusterfabric.components.model import load_fabric
from clusterfabric.gitops import emit
from clusterfabric.toolchain import PROJECT_DIR

EXAMPLE_NEEDS = {"east": [], "cluster1": [], "west": ["east"], "cluster2": ["cluster1"], "central": ["east", "west"],
                 "cluster3": ["cluster1", "cluster2"]}
"""The example fabric's edges: west's certificates come from east's CA, central imports from east and west, cluster2
joins cluster1's service network, cluster3 imports from both."""


@pytest.fixture(scope="module")
def example():
    return load_fabric(PROJECT_DIR / "config")


def test_a_stack_whose_name_is_a_job_id_keeps_it_and_others_get_distinct_valid_ids():
    ids = emit.job_ids(["east", "1east", "a.b", "a_b"])
    assert (ids["east"], ids["a_b"]) == ("east", "a_b")
    assert re.fullmatch(r"_1east-[0-9a-f]{8}", ids["1east"]) and re.fullmatch(r"_a_b-[0-9a-f]{8}", ids["a.b"])
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", i) for i in ids.values()) and len(set(ids.values())) == 4


def test_each_stack_is_a_job_needing_the_jobs_of_the_stacks_it_reads(example):
    jobs = emit.github_workflow(example)["jobs"]
    assert {job: spec.get("needs", []) for job, spec in jobs.items()} == EXAMPLE_NEEDS
    assert list(jobs) == ["east", "cluster1", "west", "cluster2", "central", "cluster3"]  # wave by wave


def test_a_stack_job_runs_the_deploys_up_for_its_stack_alone(example):
    [up] = [s for s in emit.github_workflow(example)["jobs"]["west"]["steps"] if "run" in s]
    deploy = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "deploy.yml").read_text())
    [deploy_up] = [s for s in deploy["jobs"]["up"]["steps"] if s.get("name", "").startswith("Up the changed")]
    assert (up["run"], up["env"]["STACK"]) == ('clusterfabric up --stack "$STACK"', "west")
    assert {k: v for k, v in up["env"].items() if k.startswith("PULUMI_")} == {
        k: v for k, v in deploy_up["env"].items() if k.startswith("PULUMI_")}


def test_a_job_runs_only_for_a_selected_stack_and_never_after_a_failed_one(example):
    condition = emit.github_workflow(example)["jobs"]["central"]["if"]
    assert condition == ("${{ !cancelled() && !failure() && (inputs.stacks == '*' || "
                         "contains(format(' {0} ', inputs.stacks), ' central ')) }}")


def test_past_the_job_limit_each_wave_is_a_matrix_job_split_at_the_limit(example):
    jobs = emit.github_workflow(example, max_jobs=1)["jobs"]
    assert {job: (spec.get("needs", []), spec["strategy"]["matrix"]["stack"]) for job, spec in jobs.items()} == {
        "wave-1-1": ([], ["east"]), "wave-1-2": ([], ["cluster1"]),
        "wave-2-1": (["wave-1-1", "wave-1-2"], ["west"]), "wave-2-2": (["wave-1-1", "wave-1-2"], ["cluster2"]),
        "wave-3-1": (["wave-2-1", "wave-2-2"], ["central"]), "wave-3-2": (["wave-2-1", "wave-2-2"], ["cluster3"])}
    [up] = [s for s in jobs["wave-1-1"]["steps"] if "run" in s]
    assert up["if"] == "inputs.stacks == '*' || contains(format(' {0} ', inputs.stacks), format(' {0} ', matrix.stack))"


def test_clusterlink_clusters_importing_from_each_other_need_only_the_ca_owner(tmp_path: Path):
    fabric = load_fabric(generate(tmp_path / "fabric", Shape(clusters=3, exports=1, imports=2,
                                                              dataplane="clusterlink")))
    jobs = emit.github_workflow(fabric)["jobs"]
    assert {job: spec.get("needs", []) for job, spec in jobs.items()} == {"c000": [], "c001": ["c000"],
                                                                         "c002": ["c000"]}


OPERATOR = {"project": "clusterfabric", "repo": "https://github.com/example/fabric.git", "branch": "main",
            "repo_dir": ".", "fabric_path": "config", "backend": "https://api.pulumi.com", "namespace": "fabric",
            "secret": "pulumi", "organization": "acme"}


def test_each_stack_is_an_operator_stack_whose_prerequisites_are_the_stacks_it_reads(example):
    stacks = emit.operator_stacks(example, **OPERATOR)
    assert {s["metadata"]["name"]: [p["name"] for p in s["spec"].get("prerequisites", [])] for s in stacks} == \
        EXAMPLE_NEEDS
    central = next(s for s in stacks if s["metadata"]["name"] == "central")
    assert (central["spec"]["stack"], central["spec"]["projectRepo"], central["spec"]["branch"]) == (
        "acme/clusterfabric/central", "https://github.com/example/fabric.git", "main")
    assert central["spec"]["config"] == {"clusterfabric:fabric": "config"}


def test_operator_stacks_reference_their_credentials_in_a_secret():
    stacks = emit.operator_stacks(load_fabric(PROJECT_DIR / "config"), **{**OPERATOR, "backend": "s3://state"})
    assert stacks[0]["spec"]["envRefs"] == {"PULUMI_CONFIG_PASSPHRASE": {
        "type": "Secret", "secret": {"name": "pulumi", "key": "PULUMI_CONFIG_PASSPHRASE"}}}
    https = emit.operator_stacks(load_fabric(PROJECT_DIR / "config"), **OPERATOR)[0]["spec"]["envRefs"]
    assert https["PULUMI_ACCESS_TOKEN"] == {"type": "Secret", "secret": {"name": "pulumi", "key": "PULUMI_ACCESS_TOKEN"}}


def test_a_stack_name_longer_than_the_operators_limit_is_shortened_with_a_hash():
    long = "a" * 40 + "-cluster-1"
    assert emit.stack_resource_name("east") == "east"
    assert re.fullmatch("a{33}-[0-9a-f]{8}", emit.stack_resource_name(long))
    assert emit.stack_resource_name(long) != emit.stack_resource_name(long[:-1] + "2")


def test_the_committed_stack_workflow_is_the_example_fabrics_current_one(capsys, monkeypatch):
    from clusterfabric.runner import cli

    monkeypatch.chdir(PROJECT_DIR)  # the command as the file's header gives it, from the checkout
    with pytest.raises(SystemExit) as ended:
        cli.main(["graph", "--format", "github-actions"])
    assert ended.value.code == 0
    assert capsys.readouterr().out == (PROJECT_DIR / emit.WORKFLOW_FILE).read_text()


def test_the_operator_format_asks_for_the_repository_and_backend(capsys):
    from clusterfabric.runner import cli

    with pytest.raises(SystemExit) as ended:
        cli.main(["graph", "--fabric", str(PROJECT_DIR / "config"), "--format", "operator"])
    assert ended.value.code == 2
    assert "--format operator needs --repo" in capsys.readouterr().err
