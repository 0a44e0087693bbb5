"""The component package's SDKs build in their languages, and a program of each language declaring an Export and a
ServiceExport through them compiles: the Go SDK against github.com/pulumi/pulumi/sdk/v3, the TypeScript SDK against
@pulumi/pulumi from npm, both at the version requirements.txt pins (examples/go-components/go.mod and go.sum,
toolchain/typescript's package-lock.json, installed by `scripts/setup test`; nothing is downloaded here once
setup has run).

Each example gets the SDK where `pulumi package add ../../components/plugin` puts it, `sdks/clusterfabric`
(tests/package_sdks.py generates it as that command does). The TypeScript program's node_modules links the
toolchain's packages and the SDK, as `npm install` would install them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR, TOOLS
from tests.package_sdks import generate_sdks

pytestmark = pytest.mark.slow  # the real toolchain: Pulumi CLI, sdkgen, go, tsc

EXAMPLES = PROJECT_DIR / "examples"
NODE_MODULES = TOOLS / "typescript" / "node_modules"  # `npm ci` of toolchain/typescript, by scripts/setup test
TSC = NODE_MODULES / ".bin" / "tsc"
GO_SDK = "example.com/pulumi-clusterfabric/sdk/go"


@pytest.fixture(scope="module")
def sdks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_sdks(tmp_path_factory.mktemp("sdks"), ("nodejs", "go"))


def with_sdk(example: str, sdk: Path, directory: Path) -> Path:
    """A copy of `examples/<example>` in `directory` with `sdk` in its sdks/clusterfabric."""
    program = directory / example
    shutil.copytree(EXAMPLES / example, program, ignore=shutil.ignore_patterns("sdks", "node_modules", "bin"))
    shutil.copytree(sdk, program / "sdks" / "clusterfabric")
    return program


def compiles(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """What `command` printed, asserting it succeeded (its output is the failure's message)."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} in {cwd} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def go_program(sdks: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """examples/go-components with the Go SDK, and the environment to build it: the example's go.sum verifies
    every module (-mod=readonly), no workspace file around it counts."""
    env = dict(os.environ, GOFLAGS="-mod=readonly", GOWORK="off")
    return with_sdk("go-components", sdks / "go", tmp_path_factory.mktemp("go")), env


def test_go_sdk_builds_and_vets_every_module_against_the_pinned_sdk_v3(go_program):
    program, env = go_program
    compiles(["go", "build", f"{GO_SDK}/..."], program, env)
    compiles(["go", "vet", f"{GO_SDK}/..."], program, env)
    listed = compiles(["go", "list", "-m", "github.com/pulumi/pulumi/sdk/v3"], program, env)
    assert listed.split() == ["github.com/pulumi/pulumi/sdk/v3", f"v{pinned('pulumi')}"]


def test_go_program_declaring_an_export_and_a_service_export_builds(go_program):
    program, env = go_program
    compiles(["go", "build", "-o", os.devnull, "."], program, env)
    compiles(["go", "vet", "."], program, env)


@pytest.fixture(scope="module")
def typescript_program(sdks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/typescript-components with the TypeScript SDK, its node_modules holding what `npm install` would
    put there: @pulumi/pulumi and @types from the toolchain, @pulumi/clusterfabric the SDK (a link, as for a file:
    dependency)."""
    program = with_sdk("typescript-components", sdks / "nodejs", tmp_path_factory.mktemp("typescript"))
    modules = program / "node_modules"
    (modules / "@pulumi").mkdir(parents=True)
    (modules / "@pulumi" / "pulumi").symlink_to(NODE_MODULES / "@pulumi" / "pulumi")
    (modules / "@types").symlink_to(NODE_MODULES / "@types")
    (modules / "@pulumi" / "clusterfabric").symlink_to(program / "sdks" / "clusterfabric")
    return program


def test_typescript_sdk_type_checks_against_the_pinned_pulumi_from_npm(typescript_program):
    compiles([str(TSC), "--project", "sdks/clusterfabric", "--noEmit"], typescript_program)
    installed = (typescript_program / "node_modules" / "@pulumi" / "pulumi" / "package.json").read_text()
    assert f'"version": "{pinned("pulumi")}"' in installed


def test_typescript_program_declaring_an_export_and_a_service_export_type_checks(typescript_program):
    # The SDK compiled as its postinstall script compiles it (`tsc`, into its bin/), then the program checked.
    compiles([str(TSC), "--project", "sdks/clusterfabric"], typescript_program)
    compiles([str(TSC), "--project", ".", "--noEmit"], typescript_program)


def pinned(package: str) -> str:
    """The version requirements.txt pins `package` to."""
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    return next(line.split("==")[1] for line in lines if line.startswith(f"{package}=="))
