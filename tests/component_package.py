"""The component package (components/plugin) as a test run uses it: a fresh copy of its plugin, and the YAML
example programs declared through it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from clusterfabric.toolchain import PROJECT_DIR
from tests.pulumi_project import PulumiProject, project

PACKAGE = PROJECT_DIR / "components" / "plugin"
YAML_EXAMPLE = PROJECT_DIR / "examples" / "yaml-components"


def package_copy(directory: Path) -> Path:
    """The package's plugin files in `directory`, its virtualenv path made absolute. The YAML host caches
    a package's schema beside its directory until the directory changes: a copy per run is read afresh,
    whatever the checkout's cache holds. The components themselves are imported from the checkout."""
    copy = directory / "plugin"
    copy.mkdir(parents=True)
    shutil.copy(PACKAGE / "__main__.py", copy)
    plugin = yaml.safe_load((PACKAGE / "PulumiPlugin.yaml").read_text())
    options = plugin["runtime"]["options"]
    options["virtualenv"] = str((PACKAGE / options["virtualenv"]).resolve())
    (copy / "PulumiPlugin.yaml").write_text(yaml.safe_dump(plugin))
    return copy


def yaml_program(directory: Path, change: Any = None, example: Path = YAML_EXAMPLE) -> PulumiProject:
    """The example program in `directory`, on a copy of the package, a stack `dev` initialised."""
    program = yaml.safe_load((example / "Pulumi.yaml").read_text())
    assert (example / program["packages"]["clusterfabric"]).resolve() == PACKAGE
    program["packages"]["clusterfabric"] = str(package_copy(directory / "package"))
    if change:
        change(program)
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    proj = project(directory)
    proj.init_stack("dev")
    return proj
