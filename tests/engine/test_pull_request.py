"""A pull request replayed as a CI runner sees it: a fresh clone of the fabric's repository, the deployed base in a
shared backend, and `comment` previewing the change before anything of it is deployed.

The base: east and west export, central imports from east only. The pull request adds, in one commit, a Service
and its Export to west and an Import of it to central: central's preview must be checked against what west *will*
publish, and show the new Import and the new Peer. The same commit moves central's reviews Import to another port,
a change the preview must show from what to what.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.gitops.comment import pr_comment
from clusterfabric.toolchain import pulumi_env
from tests.example_fabric import keep_clusters
from tests.pull_request_replay import commit_appended, created, fresh_clone, origin_repository, shared_backend
from tests.pulumi_project import PulumiProject

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

CLUSTERLINK = ("east", "west", "central")

BASE_IMPORTS = """\
apiVersion: clusterlink.net/v1alpha1
kind: Import
metadata:
  name: reviews
  namespace: bookinfo
spec:
  port: 9080
  sources:
    - exportName: reviews
      exportNamespace: bookinfo
      peer: east
---
apiVersion: clusterlink.net/v1alpha1
kind: AccessPolicy
metadata:
  name: allow-all
  namespace: bookinfo
spec:
  action: allow
  from:
    - workloadSelector: {}
  to:
    - workloadSelector: {}
"""

RATINGS = Path(__file__).resolve().parents[1] / "fixtures" / "ratings"
RATINGS_EXPORT = (RATINGS / "export.yaml").read_text()
RATINGS_IMPORT = (RATINGS / "import.yaml").read_text()


def clusterlink_fabric(config: Path) -> None:
    """The example's ClusterLink clusters alone, central importing from east only."""
    keep_clusters(config, CLUSTERLINK)
    (config / "central" / "sharing.yaml").write_text(BASE_IMPORTS)


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The base deployed from a checkout, then a commit adding an export and its import, and a fresh clone of it at
    the same path (a CI runner checks out where the last one did, with nothing of it left)."""
    root = tmp_path_factory.mktemp("pull-request")
    origin, base = origin_repository(root, lambda program: clusterlink_fabric(program / "config"))
    shared = shared_backend(root)
    checkout = fresh_clone(root, origin)
    env = {**pulumi_env(checkout), **shared}
    events = []
    deployed = Fabric("config", project_dir=checkout, env=env, on_event=events.append).up()
    assert deployed.ok, [(s.stack, s.result, s.message) for s in deployed.stacks]
    markers = {s: (checkout / "rendered" / s / ".clusterfabric-rendered").read_text() for s in CLUSTERLINK}
    shutil.rmtree(checkout)  # that runner is gone, its rendered manifests with it

    sharing = origin / "config" / "central" / "sharing.yaml"
    sharing.write_text(sharing.read_text().replace("port: 9080", "port: 9081"))
    commit_appended(origin, "share ratings from west with central, reviews on another port", {"config/west/sharing.yaml": RATINGS_EXPORT,
                                                                     "config/central/sharing.yaml": RATINGS_IMPORT})
    checkout = fresh_clone(root, origin)
    assert not (checkout / "rendered").exists() and not list((checkout / "stacks").glob("Pulumi.*.yaml"))
    text, result = pr_comment("config", base, project_dir=checkout, env=env)
    return {"text": text, "result": result, "base": base, "deployed": deployed, "markers": markers, "events": events,
            "backend": root / "backend", "clone": checkout, "env": env}


def test_the_pull_request_previews_every_affected_stack_for_real(pull_request):
    result = pull_request["result"]
    assert [(s.stack, s.result) for s in result.stacks] == [("west", "succeeded"), ("central", "succeeded")]
    assert result.ok


def test_the_importer_is_previewed_against_what_its_exporter_will_publish(pull_request):
    central = pull_request["result"].stack("central")
    assert created(central) == [
        ("clusterfabric:clusterlink:Import", "central-clusterlink-import-bookinfo-ratings"),
        ("clusterfabric:clusterlink:Peer", "central-clusterlink-peer-west"),
        ("kubernetes:clusterlink.net/v1alpha1:Import", "central-clusterlink-import-bookinfo-ratings"),
        ("kubernetes:clusterlink.net/v1alpha1:Peer", "central-clusterlink-peer-west")]
    assert any("west" in w and "planned" in w for w in central.warnings), central.warnings


def test_the_exporter_previews_its_new_export(pull_request):
    west = pull_request["result"].stack("west")
    assert created(west) == [("clusterfabric:clusterlink:Export", "west-clusterlink-export-bookinfo-ratings"),
                             ("kubernetes:clusterlink.net/v1alpha1:Export", "west-clusterlink-export-bookinfo-ratings"),
                             ("kubernetes:core/v1:Service", "west-bookinfo-ratings")]


def test_a_fresh_clone_reports_no_drift(pull_request):
    text = pull_request["text"]
    assert "by hand" not in text
    assert all(not s.drift for s in pull_request["result"].stacks)


def test_the_comment_shows_the_new_import_and_peer(pull_request):
    text = pull_request["text"]
    assert "+ kubernetes:clusterlink.net/v1alpha1:Import central-clusterlink-import-bookinfo-ratings" in text
    assert "+ kubernetes:clusterlink.net/v1alpha1:Peer central-clusterlink-peer-west" in text
    assert "| `central` | succeeded |" in text


def test_the_comment_and_the_preview_table_show_the_changed_port_from_old_to_new(pull_request):
    from clusterfabric.runner.cli import table

    change = ["~ kubernetes:clusterlink.net/v1alpha1:Import central-clusterlink-import-bookinfo-reviews",
              "    spec.port: 9080 -> 9081"]
    assert "\n".join(change) in pull_request["text"]
    assert "\n".join(f"  {line}" for line in change) in table(pull_request["result"])


def test_up_returns_each_stacks_outputs_with_its_render_directory_relative_to_the_project(pull_request):
    west = pull_request["deployed"].stack("west")
    assert west.outputs["renderDirectory"] == "rendered/west"
    assert west.outputs["clusterlink"]["peer"] == "west"
    # Secrets stay masked, as `pulumi stack output` shows them.
    assert pull_request["deployed"].stack("east").outputs["fabricCertificates"] == "[secret]"


def test_up_marks_the_rendered_folder_with_its_backend_and_stack(pull_request):
    marker = yaml.safe_load(pull_request["markers"]["west"])
    assert marker == {"backend": pull_request["backend"].as_uri(), "stack": "west"}


def test_events_carry_each_step_and_each_result_as_data(pull_request):
    steps = [e.step for e in pull_request["events"] if e.kind == "step" and e.stack == "west"]
    exports = [s["urn"].split("::")[-1] for s in steps if s["type"] == "kubernetes:clusterlink.net/v1alpha1:Export"]
    assert sorted(exports) == ["west-clusterlink-export-bookinfo-details", "west-clusterlink-export-bookinfo-reviews"]
    finished = [e.result for e in pull_request["events"] if e.kind == "finished"]
    assert sorted(r.stack for r in finished) == sorted(CLUSTERLINK) and all(r.result == "succeeded" for r in finished)


def test_the_table_counts_the_plaintext_secrets_each_rendering_stack_wrote(pull_request):
    from clusterfabric.runner.cli import table

    lines = table(pull_request["deployed"]).splitlines()
    # east's four certificate Secrets (cl-ca, cl-controlplane, cl-dataplane, cl-peer), each once.
    assert "east: 4 rendered objects hold secret values in plaintext (the provider's warning; docs/secrets.md says " \
        "how to ship them)" in lines, lines


def test_merged_and_deployed_from_the_fresh_clone_every_stack_renders_all_its_manifests(pull_request):
    """Last: it deploys the change. The clone has no rendered files; `up` writes all of them, not just the new ones,
    so the folder a deploy job publishes is whole."""
    clone = pull_request["clone"]
    result = Fabric("config", project_dir=clone, env=pull_request["env"]).up()
    assert result.ok, [(s.stack, s.message) for s in result.stacks]
    project = PulumiProject(clone, pull_request["env"])
    for stack in CLUSTERLINK:
        state = json.loads(project.pulumi("stack", "export", "--stack", stack).stdout)["deployment"]
        objects = [r for r in state["resources"] if r["type"].startswith("kubernetes:") and r.get("custom")
                   and not r["type"].startswith("pulumi:providers")]
        written = list((clone / "rendered" / stack / "1-manifest").glob("*.yaml"))
        assert len(written) == len(objects) > 10, stack
