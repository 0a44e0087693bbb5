"""The fake AWS provider plugin for engine tests (provider.py); how a test project points at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STATE_VARIABLE = "CLUSTERFABRIC_FAKE_AWS_STATE"
"""Names the JSON file that holds the fake AWS account's state; the plugin refuses to start without it."""

FOLDER = Path(__file__).resolve().parent
"""The folder that holds `pulumi-resource-aws`: what a test project's Pulumi.yaml names."""


def with_fake_aws(project: dict[str, Any]) -> None:
    """Add the plugin to a Pulumi.yaml's content (`plugins.providers`) as the project's `aws` provider: for that
    project alone, nothing is installed."""
    project.setdefault("plugins", {}).setdefault("providers", []).append({"name": "aws", "path": str(FOLDER)})


def point_at_fake_aws(pulumi_yaml: Path) -> None:
    """Make the project of `pulumi_yaml` load the plugin as its `aws` provider."""
    project = yaml.safe_load(pulumi_yaml.read_text())
    with_fake_aws(project)
    pulumi_yaml.write_text(yaml.safe_dump(project, sort_keys=False))


def use_fake_aws(env: dict[str, str], state: Path) -> None:
    """Have the plugin processes a run starts keep the fake account's state in `state` (a JSON file)."""
    env[STATE_VARIABLE] = str(state)
