"""The package's metadata: what `pip install` of the wheel brings is what the checkout runs with."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from clusterfabric.toolchain import PROJECT_DIR

PIN = re.compile(r"([A-Za-z0-9_.-]+)==([^\s#]+)")


def pins(lines: list[str]) -> dict[str, str]:
    found = (PIN.fullmatch(line.split("#")[0].strip()) for line in lines)
    return {m[1].lower().replace("_", "-"): m[2] for m in found if m}


def third_party_imports() -> set[str]:
    """The top-level modules the installed code imports that are neither its own nor the standard library's."""
    names = set()
    for path in [*PROJECT_DIR.glob("clusterfabric/**/*.py"), *PROJECT_DIR.glob("components/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"clusterfabric", "__future__"}


def dependencies() -> list[str]:
    return tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["dependencies"]


def test_the_package_depends_on_exactly_the_versions_the_checkout_pins():
    assert [d for d in dependencies() if not PIN.fullmatch(d)] == []  # each one pinned
    declared = pins(dependencies())
    pinned = pins((PROJECT_DIR / "requirements.txt").read_text().splitlines())
    assert declared == {name: pinned[name] for name in declared}


def test_the_package_depends_on_every_distribution_its_code_imports():
    declared = set(pins(dependencies()))
    distribution = {"pulumi_kubernetes": "pulumi-kubernetes", "pulumi_aws": "pulumi-aws", "yaml": "pyyaml"}
    assert {distribution.get(name, name) for name in third_party_imports()} <= declared


def test_the_package_lists_every_folder_of_its_code_under_the_clusterfabric_name():
    setuptools = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"clusterfabric." + ".".join(p.parent.relative_to(PROJECT_DIR / "clusterfabric").parts)
               for p in (PROJECT_DIR / "clusterfabric").glob("**/__init__.py")}
    folders |= {".".join(("clusterfabric", *p.parent.relative_to(PROJECT_DIR).parts))
                for p in (PROJECT_DIR / "components").glob("**/__init__.py")}
    folders = {f.rstrip(".") for f in folders}
    assert set(setuptools["packages"]) == folders | {"clusterfabric.github"}
    assert setuptools["package-dir"] == {"clusterfabric.components": "components", "clusterfabric.github": ".github"}
    assert not [p for p in setuptools["packages"] if not p.startswith("clusterfabric")]  # no generic top-level name
