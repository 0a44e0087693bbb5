"""The engine is real: a cluster stack previews, deploys, renders, and is read by another stack."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from clusterfabric.toolchain import PROJECT_DIR
from tests.engine.conftest import EXAMPLE_STACK
from tests.pulumi_project import PulumiProject, copy_program, project


def pinned_pulumi_version() -> str:
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        if line.startswith("pulumi=="):
            return line.split("==")[1]
    raise AssertionError("requirements.txt does not pin pulumi")


def rendered_objects(directory: Path) -> dict[tuple[str, str, str], dict]:
    objects = {}
    for path in sorted(directory.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            meta = doc["metadata"]
            objects[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return objects


def test_pulumi_version_through_the_project_is_the_pinned_one(example: PulumiProject):
    assert example.pulumi("version").stdout.strip() == f"v{pinned_pulumi_version()}"


def test_preview_plans_every_object_without_writing_manifests(tmp_path: Path, backend: Path):
    proj = project(copy_program(tmp_path / "p"), backend / "preview-only")
    proj.init_stack(EXAMPLE_STACK)
    events = json.loads(proj.pulumi("preview", "--json", "--stack", EXAMPLE_STACK).stdout)
    creates = sorted(
        step["urn"].split("::")[-1] for step in events["steps"] if step["op"] == "create"
        and step["urn"].split("::")[-2].endswith(("kubernetes:core/v1:Service", "kubernetes:core/v1:Namespace"))
    )
    assert creates == ["cluster-east-bookinfo", "cluster-east-bookinfo-reviews", "cluster-east-default-iperf3-server"]
    assert not (tmp_path / "p" / "rendered").exists()


def test_up_renders_manifests_that_parse(example: PulumiProject):
    objects = rendered_objects(example.directory / "rendered" / EXAMPLE_STACK)
    assert set(objects) == {
        ("Namespace", "", "bookinfo"),
        ("Service", "bookinfo", "reviews"),
        ("Service", "default", "iperf3-server"),
    }
    iperf = objects[("Service", "default", "iperf3-server")]
    assert iperf["spec"]["ports"] == [{"port": 5000, "protocol": "TCP", "targetPort": 5201}]
    assert iperf["spec"]["selector"] == {"app": "iperf3-server"}


def test_second_up_reports_no_changes(example: PulumiProject):
    result = example.up(EXAMPLE_STACK, "--expect-no-changes", "--json")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    [summary] = [e["summaryEvent"] for e in events if "summaryEvent" in e]
    # Stack, component, provider, one namespace and two services: all unchanged.
    assert summary["resourceChanges"] == {"same": 6}


def test_stack_output_returns_what_the_program_exported(example: PulumiProject):
    outputs = example.outputs(EXAMPLE_STACK)
    assert outputs["cluster"] == "cluster-east"
    assert outputs["dataplane"] == "clusterlink"
    assert outputs["services"] == ["bookinfo/reviews", "default/iperf3-server"]
    assert outputs["renderDirectory"] == str(example.directory / "rendered" / EXAMPLE_STACK)


def test_another_stack_reads_the_outputs_through_a_stack_reference(example: PulumiProject, reader: PulumiProject):
    reader.init_stack("reader")
    reader.pulumi("config", "set", "source", f"organization/clusterfabric/{EXAMPLE_STACK}", "--stack", "reader")
    reader.up("reader")
    assert reader.outputs("reader") == {
        "sourceCluster": "cluster-east",
        "sourceServices": ["bookinfo/reviews", "default/iperf3-server"],
    }
