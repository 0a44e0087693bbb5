"""The `clusterfabric` command's own behaviour: version, destroy's confirmation, comment's options."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from clusterfabric.runner import cli
from clusterfabric.runner.events import Event
from clusterfabric.runner.fabric import ClusterTarget
from clusterfabric.toolchain import PROJECT_DIR

CONFIG = str(PROJECT_DIR / "config")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as ended:
        cli.main(argv)
    return ended.value.code


class StandIn:
    """A fabric that records the operations asked of it and succeeds."""

    def __init__(self, ran: list[str]):
        self.ran = ran

    def __getattr__(self, operation: str):
        return lambda stacks: (self.ran.append(operation), SimpleNamespace(ok=True, stacks=[], notes=[]))[1]


@pytest.fixture()
def operations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fabric operations the command went on to run (none run for real)."""
    ran: list[str] = []
    monkeypatch.setattr(cli, "_fabric", lambda args: StandIn(ran))
    monkeypatch.setattr(cli, "table", lambda result: "")
    return ran


def comment_options(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The options `comment` hands to pr_comment (which then ends the command)."""
    seen: dict = {}

    def pr_comment(fabric_dir, base, **options):
        seen.update(options)
        raise SystemExit(0)

    monkeypatch.setattr("clusterfabric.gitops.comment.pr_comment", pr_comment)
    return seen


def test_version_names_the_package_and_the_pinned_pulumi(capsys: pytest.CaptureFixture[str]):
    pinned = next(line.split("==")[1] for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines()
                  if line.startswith("pulumi=="))
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"clusterfabric 0.1.0 (Pulumi v{pinned})\n"


def test_destroy_without_a_terminal_is_refused_unless_yes(monkeypatch, operations, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert run(["destroy", "--fabric", CONFIG]) == 1
    assert operations == []
    assert "not run from a terminal, so it needs --yes" in capsys.readouterr().err


def test_destroy_asks_at_a_terminal_and_stops_unless_told_yes(monkeypatch, operations, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    assert run(["destroy", "--fabric", CONFIG, "--stack", "east"]) == 1
    assert operations == []
    assert "Destroy east: every resource they declare? Type yes to go on: " in capsys.readouterr().out


def test_destroy_goes_on_when_the_user_types_yes(monkeypatch, operations):
    monkeypatch.setattr("sys.stdin", Terminal("yes\n"))
    assert run(["destroy", "--fabric", CONFIG]) == 0
    assert operations == ["destroy"]


def test_destroy_with_yes_does_not_ask(monkeypatch, operations):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run(["destroy", "--yes", "--fabric", CONFIG]) == 0
    assert operations == ["destroy"]


def test_comment_refuses_stack_naming_what_to_use_instead(capsys):
    assert run(["comment", "--base", "origin/main", "--fabric", CONFIG, "--stack", "east"]) == 2
    assert "use `clusterfabric preview --stack NAME`" in capsys.readouterr().err


def test_comment_previews_against_the_targets_given(monkeypatch, tmp_path: Path):
    kubeconfig = tmp_path / "east.yaml"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    seen = comment_options(monkeypatch)
    assert run(["comment", "--base", "origin/main", "--fabric", CONFIG, "--kubeconfig", f"east={kubeconfig}"]) == 0
    assert seen["targets"] == {"east": ClusterTarget(kubeconfig)}


def test_comment_with_render_moves_every_cluster_back_to_files(monkeypatch):
    seen = comment_options(monkeypatch)
    assert run(["comment", "--base", "origin/main", "--fabric", CONFIG, "--render"]) == 0
    assert seen["targets"] == dict.fromkeys(["east", "west", "central", "cluster1", "cluster2", "cluster3"])


def test_plan_prints_each_stack_once_on_stdout_a_failed_one_as_failed(monkeypatch, capsys: pytest.CaptureFixture[str]):
    planned = {"back": {"resources": [{}, {}], "warnings": [], "errors": []},
               "front": {"resources": [], "warnings": [], "errors": ["Service/shop/front: refused"]}}

    def plan(project_dir, fabric_dir, stacks, progress):
        for stack, entry in planned.items():
            progress(stack, entry)
        return {"stacks": planned}

    monkeypatch.setattr("clusterfabric.offline.plan.plan", plan)
    with pytest.raises(SystemExit) as exit:
        cli.main(["plan", "--offline"])
    out, err = capsys.readouterr()
    assert exit.value.code == 1
    assert out == "back: 2 resources\nfront: failed\n  error: Service/shop/front: refused\n"
    assert re.fullmatch(r"plan: back planned \(\d+\.\d s\)\nplan: front failed \(\d+\.\d s\)\n", err)


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["default", "verbose"])
def test_progress_shows_each_resource_step_only_when_verbose(verbose: list[str], capsys: pytest.CaptureFixture[str]):
    fabric = cli._fabric(cli._parser().parse_args(["up", "--fabric", CONFIG, *verbose]))
    for kind, message in [("started", "up"), ("step", "create kubernetes:core/v1:Namespace bookinfo"),
                          ("diagnostic", "warning: rendered objects hold secret values"), ("finished", "succeeded")]:
        fabric.on_event(Event("east", kind, message))
    shown = ["[east] started: up", "[east] finished: succeeded"]
    if verbose:
        shown.insert(1, "[east] step: create kubernetes:core/v1:Namespace bookinfo")
    assert capsys.readouterr().err.splitlines() == shown


def test_a_fabric_command_finds_the_fabric_and_its_project_from_the_current_directory(monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    for project in (tmp_path, tmp_path / "fabrics" / "prod"):
        project.mkdir(parents=True, exist_ok=True)
        (project / "Pulumi.yaml").write_text("name: fabric\nruntime: python\n")
    (tmp_path / "fabrics" / "prod" / "fabric.yaml").write_text("name: prod\n")
    for command, fabric_dir, project in ((["up"], tmp_path / "config", tmp_path),
                                         (["preview", "--fabric", "fabrics/prod"], tmp_path / "fabrics" / "prod",
                                          tmp_path / "fabrics" / "prod")):
        fabric = cli._fabric(cli._parser().parse_args(command))
        assert (fabric.fabric_dir, fabric.project_dir) == (fabric_dir, project)
    monkeypatch.chdir(tmp_path / "fabrics" / "prod")  # a fabric repository: its fabric.yaml is at the top
    fabric = cli._fabric(cli._parser().parse_args(["up"]))
    assert (fabric.fabric_dir, fabric.project_dir) == (tmp_path / "fabrics" / "prod",) * 2


def test_a_preview_with_refresh_exits_4_when_a_stack_would_change(monkeypatch: pytest.MonkeyPatch):
    from clusterfabric.runner.results import FabricResult, StackResult

    asked = []

    class Previewed:
        def preview(self, stacks, refresh=False):
            asked.append(refresh)
            changes = {"update": 1} if refresh else {}
            return FabricResult("preview", [StackResult("east", "preview", "succeeded", changes=changes)])

    monkeypatch.setattr(cli, "_fabric", lambda args: Previewed())
    with pytest.raises(SystemExit) as drifted:
        cli.main(["preview", "--refresh"])
    with pytest.raises(SystemExit) as plain:
        cli.main(["preview"])
    assert (drifted.value.code, plain.value.code, asked) == (cli.EXIT_DRIFT, 0, [True, False])


# --- local clusters with nodes: which kind each cluster is, who may start them ------------------------------------

IPERF3 = PROJECT_DIR / "examples" / "iperf3"


def kinds(root: Path, nodes: bool) -> dict[str, str]:
    from clusterfabric.components.model import load_fabric
    from clusterfabric.local.nodefabric import local_clusters

    with_nodes, planes = local_clusters(load_fabric(IPERF3), root, nodes)
    return {**{name: f"node {node.ranges.node}" for name, node in with_nodes.items()},
            **{name: "apiserver" for name in planes}}


def test_a_cluster_is_one_with_a_node_when_asked_or_when_started_so_before(tmp_path: Path):
    assert kinds(tmp_path, nodes=False) == {"server": "apiserver", "client": "apiserver"}
    assert kinds(tmp_path, nodes=True) == {"server": "node 10.250.0.10", "client": "node 10.250.0.11"}
    (tmp_path / "client" / "node").mkdir(parents=True)
    (tmp_path / "client" / "node" / "state.json").write_text("{}")  # what a start with --nodes leaves
    assert kinds(tmp_path, nodes=False) == {"server": "apiserver", "client": "node 10.250.0.11"}


@pytest.mark.parametrize("argv", [["apiservers", "start", "--nodes"], ["apiservers", "stop", "--nodes"],
                                  ["up", "--apiservers", "--nodes"]])
def test_clusters_with_nodes_need_root_and_say_so(argv: list[str], monkeypatch, capsys, tmp_path: Path):
    from clusterfabric.local import apiserver

    fabric = tmp_path / "fabric"
    shutil.copytree(IPERF3, fabric)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(apiserver, "start_all", lambda *a, **k: pytest.fail("started without root"))
    assert run([*argv, "--fabric", str(fabric)]) == 1
    assert "clusters with a node (server, client) need root" in capsys.readouterr().err


def test_the_load_balancer_gives_each_load_balancer_service_its_cluster_address_once():
    from clusterfabric.local.loadbalancer import publish

    class Client:
        def __init__(self):
            self.patched: list[tuple[str, dict]] = []
            self.services = [
                {"metadata": {"namespace": "cl", "name": "gateway"}, "spec": {"type": "LoadBalancer"}},
                {"metadata": {"namespace": "cl", "name": "inner"}, "spec": {"type": "ClusterIP"}},
                {"metadata": {"namespace": "x", "name": "done"}, "spec": {"type": "LoadBalancer"},
                 "status": {"loadBalancer": {"ingress": [{"ip": "10.250.1.10"}]}}}]

        def get(self, path: str) -> dict:
            return {"items": self.services}

        def request(self, method: str, path: str, body: dict, **_) -> dict:
            self.patched.append((f"{method} {path}", body))
            return {}

    client = Client()
    assert publish(client, "10.250.1.10") == ["cl/gateway"]
    assert client.patched == [("PATCH /api/v1/namespaces/cl/services/gateway/status",
                               {"status": {"loadBalancer": {"ingress": [{"ip": "10.250.1.10", "ipMode": "VIP"}]}}})]
