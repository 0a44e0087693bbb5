"""docs/clusterlink-platform.md ("Certificates over time") and the README say what the code does: the settings
with their defaults, the command's options, the section the expiry advice points to."""

from __future__ import annotations

import re
import shlex

import yaml

from clusterfabric.runner import cli
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model.certificates import CertificateSettings, renewal

PLATFORM_DOCS = (PROJECT_DIR / "docs" / "clusterlink-platform.md").read_text()
README = (PROJECT_DIR / "README.md").read_text()
SECTION = "Certificates over time"


def lifecycle_section() -> str:
    return PLATFORM_DOCS.split(f"## {SECTION}\n", 1)[1].split("\n## ", 1)[0]


def commands_shown(text: str) -> list[list[str]]:
    """Every `clusterfabric ...` command of the text's sh blocks, as arguments (comments left out)."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [shlex.split(line.split("#", 1)[0])[1:] for block in blocks for line in block.splitlines()
            if line.startswith("clusterfabric ")]


def test_the_lifecycle_section_gives_every_certificate_setting_with_its_default():
    example = re.search(r"```yaml\n(.*?)```", lifecycle_section(), re.S).group(1)
    assert yaml.safe_load(example) == {"certificates": CertificateSettings().model_dump()}


def test_the_readme_shows_the_certificate_commands_as_the_cli_takes_them():
    shown = [args for args in commands_shown(README) if args[0] == "rotate-certificates" or "--deployed" in args]
    assert shown == [["validate", "--deployed"], ["rotate-certificates", "--peer", "client"],
                     ["rotate-certificates", "--fabric-ca"]]
    for args in shown:
        cli._parser().parse_args(args)  # exits (SystemExit) on an option the CLI does not have


def test_the_lifecycle_section_names_both_ways_to_rotate():
    assert "`clusterfabric rotate-certificates --peer NAME`" in lifecycle_section()
    assert "`clusterfabric rotate-certificates --fabric-ca`" in lifecycle_section()


def test_the_advice_for_a_clusters_own_certificate_points_to_a_section_the_docs_have():
    assert f'"{SECTION}"' in renewal("cl-controlplane")
    assert f"\n## {SECTION}\n" in PLATFORM_DOCS
