"""The engine is real: a cluster stack previews, deploys, renders, and is read by another stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.example_fabric import EXAMPLE_STACKS, unchanged
from tests.pulumi_project import PulumiProject, copy_program, project
from tests.schemas import rendered_objects

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


def pinned_pulumi_version() -> str:
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        if line.startswith("pulumi=="):
            return line.split("==")[1]
    raise AssertionError("requirements.txt does not pin pulumi")


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_pulumi_version_through_the_project_is_the_pinned_one(example: PulumiProject):
    assert example.pulumi("version").stdout.strip() == f"v{pinned_pulumi_version()}"


def test_preview_plans_the_objects_without_writing_manifests(tmp_path: Path):
    proj = project(copy_program(tmp_path / "p"))
    proj.init_stack("east")
    plan = json.loads(proj.pulumi("preview", "--json", "--stack", "east").stdout)
    created = {step["urn"].split("::")[-1] for step in plan["steps"] if step["op"] == "create"}
    assert {"east-bookinfo", "east-bookinfo-reviews", "east-default-iperf3-server",
            "east-clusterlink-export-default-iperf3-server", "east-certificates-ca"} <= created
    assert not (tmp_path / "p" / "rendered").exists()


def test_up_renders_manifests_that_parse(example: PulumiProject):
    objects = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
               for _, o in rendered_objects(example.directory / "rendered" / "east")}
    iperf = objects[("Service", "default", "iperf3-server")]
    assert iperf["spec"]["ports"] == [{"port": 5000, "protocol": "TCP", "targetPort": 5201}]
    assert iperf["spec"]["selector"] == {"app": "iperf3-server"}
    assert ("Namespace", "", "bookinfo") in objects
    assert ("Namespace", "", "default") not in objects  # built in: never declared


def test_second_up_of_every_stack_reports_no_changes(example: PulumiProject):
    for stack in EXAMPLE_STACKS:
        result = example.up(stack, "--expect-no-changes", "--json")
        [summary] = [e["summaryEvent"] for e in events(result.stdout) if "summaryEvent" in e]
        assert set(summary["resourceChanges"]) == unchanged(stack), (stack, summary)


def test_stack_output_returns_what_the_program_exported(example: PulumiProject):
    outputs = example.outputs("east")
    assert outputs["cluster"] == "east"
    assert outputs["dataplane"] == "clusterlink"
    assert outputs["services"] == ["bookinfo/reviews", "default/iperf3-server"]
    assert outputs["renderDirectory"] == "rendered/east"  # relative: the state names no machine's path


def test_another_stack_reads_the_outputs_through_a_stack_reference(example: PulumiProject, reader: PulumiProject):
    reader.init_stack("reader")
    reader.pulumi("config", "set", "source", "organization/clusterfabric/east", "--stack", "reader")
    reader.up("reader")
    assert reader.outputs("reader") == {
        "sourceCluster": "east",
        "sourceServices": ["bookinfo/reviews", "default/iperf3-server"],
    }
