"""The fabric layer refuses to run without a backend instead of passing mocks off as a preview."""

from __future__ import annotations

import pytest

from clusterfabric import Fabric
from clusterfabric.toolchain import BackendError, pulumi_env


def test_an_empty_backend_url_fails_the_run_naming_the_variable_and_the_offline_plan():
    env = {**pulumi_env(), "PULUMI_BACKEND_URL": ""}
    env.pop("PULUMI_ACCESS_TOKEN", None)
    with pytest.raises(BackendError, match=r"PULUMI_BACKEND_URL is set but empty.*plan --offline"):
        Fabric("config", env=env).preview()


def test_an_empty_backend_url_fails_the_cli_with_exit_1(capsys, monkeypatch):
    from clusterfabric.runner.cli import main

    monkeypatch.setenv("PULUMI_BACKEND_URL", "")
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["preview"])
    assert exited.value.code == 1
    assert "clusterfabric: PULUMI_BACKEND_URL is set but empty" in capsys.readouterr().err


def test_a_run_with_stacks_planned_offline_exits_3_and_shows_them_apart():
    from clusterfabric.runner.cli import table
    from clusterfabric.runner.results import FabricResult, StackResult
    from clusterfabric.gitops.report import exit_status

    deployed = StackResult("east", "up", "succeeded", changes={"create": 31})
    offline = StackResult("cluster1", "up", "planned offline", changes={"create": 16})
    result = FabricResult("up", [deployed, offline])
    assert exit_status(result) == 3
    lines = table(result).splitlines()
    assert lines[0].split() == ["stack", "result", "create", "update", "replace", "delete", "planned", "offline",
                                "duration"]
    assert lines[2].split()[:7] == ["east", "succeeded", "31", "0", "0", "0", "-"]
    assert lines[3].split()[:8] == ["cluster1", "planned", "offline", "-", "-", "-", "-", "16"]


def test_a_run_where_every_stack_deployed_exits_0_and_a_failure_exits_1():
    from clusterfabric.runner.results import FabricResult, StackResult
    from clusterfabric.gitops.report import exit_status

    assert exit_status(FabricResult("up", [StackResult("east", "up", "succeeded")])) == 0
    assert exit_status(FabricResult("up", [StackResult("east", "up", "failed"),
                                           StackResult("cluster1", "up", "planned offline")])) == 1


def test_an_unknown_stack_is_named_with_the_fabrics_stacks():
    from clusterfabric import UnknownStackError

    with pytest.raises(UnknownStackError) as raised:
        Fabric("config").preview(["nowhere"])
    assert str(raised.value) == ("no stack nowhere in the fabric (stacks: east, cluster1, west, cluster2, central, "
                                 "cluster3)")


def test_the_python_api_exports_what_its_callers_catch_and_pass():
    import clusterfabric
    from clusterfabric.components.model import InputError

    assert clusterfabric.InputError is InputError
    assert clusterfabric.ClusterTarget.__name__ == "ClusterTarget"
    assert issubclass(clusterfabric.BackendError, RuntimeError)


def test_clear_pending_returns_what_it_cleared_on_a_backend_without_checkpoint_files(monkeypatch):
    from types import SimpleNamespace

    namespace = "kubernetes:core/v1:Namespace"
    pending = {"type": "creating",
               "resource": {"type": namespace, "urn": f"urn:pulumi:east::clusterfabric::{namespace}::shop"}}
    state = SimpleNamespace(deployment={"resources": [], "pending_operations": [pending]})
    imported = []
    stack = SimpleNamespace(export_stack=lambda: state, import_stack=imported.append)
    monkeypatch.setattr(Fabric, "_stack", lambda self, name: stack)
    fabric = Fabric("config", env={"PULUMI_BACKEND_URL": "s3://bucket"})  # no checkpoint file to read
    assert fabric.clear_pending("east") == ["creating kubernetes:core/v1:Namespace shop"]
    assert imported == [state] and state.deployment["pending_operations"] == []
