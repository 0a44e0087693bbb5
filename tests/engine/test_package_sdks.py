"""The component package's SDKs for TypeScript, Go and Python, generated offline from the schema it serves.

`pulumi package add <checkout>/components/plugin` in a TypeScript, Go, C# or Java program generates the package's
SDK for that language: the CLI reads the schema from the package's plugin (`pulumi package get-schema`, here) and
has the language's host generate the SDK with pulumi/pkg's code generators. The hosts of Node.js and Go are not
served by the module proxy reachable here, so sdkgen (toolchain/sdkgen, built by scripts/setup) runs those same
generators on the schema. C# and Java have their generators in pulumi-dotnet and pulumi-java: not tested here.
How they are generated: tests/package_sdks.py; tests/engine/test_package_sdks_build.py compiles them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clusterfabric.components.plugin.package import MODULES
from tests.package_sdks import generate_sdks

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK of each language in `<folder>/<language>`, from the schema the package's plugin serves."""
    return generate_sdks(tmp_path_factory.mktemp("sdks"))


def camel(name: str) -> str:
    """The file name pulumi/pkg's Node.js generator gives a component: its leading capitals lowered (ServiceExport:
    serviceExport; HTTPRoute: httproute)."""
    lead = len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    return name[:lead].lower() + name[lead:]


def typescript_args(sdks: Path, module: str, component: str) -> list[str]:
    """The members of the generated `<component>Args` interface, `?` marking the optional ones."""
    source = (sdks / "nodejs" / module / f"{camel(component)}.ts").read_text()
    body = re.search(rf"export interface {component}Args {{(.*?)\n}}", source, re.S)
    assert body, f"no {component}Args in {module}/{camel(component)}.ts"
    return re.findall(r"^    (\w+\??):", body.group(1), re.M)


@pytest.mark.parametrize("module,component", [(m, c.__name__) for m, classes in MODULES.items() for c in classes])
def test_typescript_declares_each_component_as_a_remote_component_in_its_module(sdks, module, component):
    source = (sdks / "nodejs" / module / f"{camel(component)}.ts").read_text()
    assert f"export class {component} extends pulumi.ComponentResource {{" in source
    assert f"public static readonly __pulumiType = 'clusterfabric:{module}:{component}';" in source
    assert f"super({component}.__pulumiType, name, resourceInputs, opts, true /*remote*/);" in source
    assert (f'export const {component}: typeof import("./{camel(component)}").{component} = null as any;'
            in (sdks / "nodejs" / module / "index.ts").read_text())


def test_typescript_service_export_args_are_the_documented_ones(sdks):
    assert typescript_args(sdks, "lattice", "ServiceExport") == [
        "accountId", "cluster", "consumers?", "exportedPorts", "name", "namespace", "region", "service?", "tags?",
        "targets", "vpcId"]


def test_typescript_service_export_outputs_its_target_groups(sdks):
    source = (sdks / "nodejs" / "lattice" / "serviceExport.ts").read_text()
    assert ("declare public /*out*/ readonly targetGroups: pulumi.Output<outputs.lattice.ExportedTargetGroup[]>;"
            in source)


def test_typescript_export_and_import_args_are_the_documented_ones(sdks):
    assert typescript_args(sdks, "clusterlink", "Export") == [
        "annotations?", "host?", "labels?", "name", "namespace", "port"]
    assert typescript_args(sdks, "clusterlink", "Import") == [
        "annotations?", "labels?", "lbScheme?", "name", "namespace", "port", "sources", "targetPort?"]


def test_go_declares_service_export_with_its_args(sdks):
    source = (sdks / "go" / "clusterfabric" / "lattice" / "serviceExport.go").read_text()
    assert "func NewServiceExport(ctx *pulumi.Context," in source
    assert 'ctx.RegisterRemoteComponentResource("clusterfabric:lattice:ServiceExport", name, args' in source
    body = re.search(r"type ServiceExportArgs struct {(.*?)\n}", source, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r"^\t(\w+) ", body, re.M) == [
        "AccountId", "Cluster", "Consumers", "ExportedPorts", "Name", "Namespace", "Region", "Service", "Tags",
        "Targets", "VpcId"]


def test_the_python_sdk_compiles_and_declares_service_export(sdks):
    package = sdks / "python" / "pulumi_clusterfabric"
    for source in package.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")
    assert "class ServiceExport(pulumi.ComponentResource):" in (package / "lattice" / "service_export.py").read_text()
