"""The fake AWS provider plugin for engine tests (provider.py); how a test project points at it."""

from __future__ import annotations

from pathlib import Path

STATE_VARIABLE = "CLUSTERFABRIC_FAKE_AWS_STATE"
"""Names the JSON file that holds the fake AWS account's state; the plugin refuses to start without it."""

FOLDER = Path(__file__).resolve().parent
"""The folder that holds `pulumi-resource-aws`: what a test project's Pulumi.yaml names."""


def point_at_fake_aws(pulumi_yaml: Path) -> None:
    """Make the project at `pulumi_yaml` load this plugin as its `aws` provider (for it alone: nothing is installed)."""
    pulumi_yaml.write_text(pulumi_yaml.read_text().rstrip("\n") + f"\nplugins:\n  providers:\n    - name: aws\n"
                           f"      path: {FOLDER}\n")


def use_fake_aws(env: dict[str, str], state: Path) -> None:
    """Have the plugin processes a run starts keep the fake account's state in `state` (a JSON file)."""
    env[STATE_VARIABLE] = str(state)
