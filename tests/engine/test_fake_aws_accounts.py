"""The three-account example (examples/lattice-accounts) on the real Pulumi engine: its stacks come up in dependency
order against the fake AWS provider plugin (tests/fake_aws), one state for the three accounts, the way the offline
plan declares them: the network account shares the service network through AWS RAM, the exporter and the consumer
accept the invitation and join it by ARN, the consumer's route gets its Lattice service in the exporter's account.
Then they come down in reverse order, the RAM resources with them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from clusterfabric.toolchain import PROJECT_DIR
from tests.fake_aws.project import destroy_in_reverse, expect_no_changes, fabric_on_fake_aws
from tests.pulumi_project import PulumiProject

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

NETWORK, EXPORTER, CONSUMER = "111111111111", "222222222222", "333333333333"


def held(state: Path) -> Counter[tuple[str, str, str]]:
    """What the fake holds: (account, kind, stack) of each resource, counted."""
    regions = json.loads(state.read_text())["regions"]
    return Counter((region["scope"][0], r["kind"], r["stack"]) for region in regions for r in region["records"])


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> tuple[PulumiProject, list[str], Path]:
    """The program with the example's fabric, its stacks up in dependency order against the fake plugin."""
    return fabric_on_fake_aws(tmp_path_factory.mktemp("accounts") / "program",
                              PROJECT_DIR / "examples" / "lattice-accounts")


def test_the_stacks_come_up_network_owner_first(accounts):
    _proj, stacks, _state = accounts
    assert stacks == ["network", "exporter", "consumer"]


def test_the_network_account_holds_the_network_and_its_share_with_the_two_other_accounts(accounts):
    _proj, _stacks, state = accounts
    found = held(state)
    assert {kind: found[(NETWORK, kind, "network")] for kind in (
        "ServiceNetwork", "ResourceShare", "ResourceAssociation", "PrincipalAssociation")} == {
        "ServiceNetwork": 1, "ResourceShare": 1, "ResourceAssociation": 1, "PrincipalAssociation": 2}


def test_each_other_account_accepted_the_invitation_and_joined_the_network(accounts):
    _proj, _stacks, state = accounts
    found = held(state)
    assert (found[(EXPORTER, "ShareAcceptance", "exporter")], found[(CONSUMER, "ShareAcceptance", "consumer")]) == (1, 1)
    assert (found[(EXPORTER, "ServiceAssociation", "exporter")], found[(CONSUMER, "VpcAssociation", "consumer")]) == (
        1, 1)


def test_the_consumers_route_has_its_service_in_the_exporters_account_and_its_dns_name_published(accounts):
    proj, _stacks, state = accounts
    found = held(state)
    assert (found[(EXPORTER, "Service", "exporter")], found[(CONSUMER, "Service", "consumer")]) == (1, 0)
    [hosted] = proj.outputs("exporter")["lattice"]["hostedServices"]
    route = proj.outputs("consumer")["lattice"]["routeServices"]["HTTPRoute/shop/checkout"]
    assert (route["accountId"], route["dnsName"]) == (EXPORTER, hosted["dnsName"])
    assert hosted["dnsName"].endswith(".vpc-lattice-svcs.us-west-2.on.aws")


def test_a_second_up_changes_nothing(accounts):
    proj, stacks, _state = accounts
    expect_no_changes(proj, stacks)


def test_destroying_in_reverse_order_empties_the_three_accounts(accounts):
    proj, stacks, state = accounts
    destroy_in_reverse(proj, stacks)
    assert held(state) == Counter()
