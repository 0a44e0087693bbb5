"""Clusters in several accounts of one Region (examples/lattice-accounts): a service network created by one stack
and shared through AWS RAM with the accounts that use it, or one that exists already; and a route whose target
groups are another account's, whose Lattice service that account's stack declares. Planned behind the stateful
fake, which refuses what AWS refuses across accounts (tests/unit/test_lattice_fake_accounts.py)."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pulumi.output import Unknown

from clusterfabric.offline.plan import lattice_api, plan, run_stack
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.contract import PLANNED_PEERS_ENV, planned_lattice_output
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.fabric_yaml import FabricSpec
from clusterfabric.components.model.graph import dependencies, run_order
from clusterfabric.components.model.lattice_rules import warnings_of
from clusterfabric.components.model.validation import parse
from tests.unit.edited_fabric import edit, lines

EXAMPLE = PROJECT_DIR / "examples" / "lattice-accounts"
NETWORK, EXPORTER, CONSUMER = "111111111111", "222222222222", "333333333333"
ORGANIZATION = "arn:aws:organizations::111111111111:organization/o-a1b2c3d4e5"
EXISTING = "arn:aws:vpc-lattice:us-west-2:111111111111:servicenetwork/sn-0a1b2c3d4e5f60001"
IN_ORGANIZATION = f"""lattice:
  organization:
    arn: {ORGANIZATION}
    accounts: ["{NETWORK}", "{EXPORTER}", "{CONSUMER}"]
"""


@pytest.fixture()
def accounts(tmp_path: Path) -> Path:
    """A copy of the three-account example to edit."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "accounts"))


def planned(fabric: Path) -> dict[str, dict]:
    """Each stack's plan, behind the fake: it fails where AWS would refuse."""
    loaded = load_fabric(fabric)
    stacks = plan(PROJECT_DIR, fabric, fabric=loaded, lattice=lattice_api(loaded))["stacks"]
    assert {s: e.get("errors") for s, e in stacks.items()} == {s: None for s in stacks}
    return stacks


@pytest.fixture(scope="module")
def example() -> dict[str, dict]:
    """The example's plan (planned once: the tests only read it)."""
    return planned(EXAMPLE)


@pytest.fixture(scope="module")
def shared_with_organization(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The example's plan with its accounts in one Organization, the network shared with the whole of it."""
    fabric = Path(shutil.copytree(EXAMPLE, tmp_path_factory.mktemp("organization") / "accounts"))
    edit(fabric, "fabric.yaml", "lattice:\n", IN_ORGANIZATION)
    edit(fabric, "fabric.yaml", "      owner: network\n", "      owner: network\n      sharedWith: [organization]\n")
    return planned(fabric)


def declared(stack: dict, suffix: str) -> list[dict]:
    return [r["inputs"] for r in stack["resources"] if r["type"].endswith(suffix)]


# --- the example ---------------------------------------------------------------------------------------------


def test_the_network_accounts_stack_shares_the_network_with_the_accounts_that_use_it(example: dict[str, dict]):
    network = example["network"]
    [share] = declared(network, "ram/resourceShare:ResourceShare")
    assert share == {"name": "shop-network", "allowExternalPrincipals": False,
                     "tags": {"application-networking.k8s.aws/ManagedBy": f"{NETWORK}/network/vpc-0a1b2c3d4e5f61111"}}
    [shared] = declared(network, "ram/resourceAssociation:ResourceAssociation")
    assert shared["resourceArn"] == network["outputs"]["lattice"]["serviceNetworks"]["shop-network"]["arn"]
    assert sorted(p["principal"] for p in declared(network, "ram/principalAssociation:PrincipalAssociation")) == [
        EXPORTER, CONSUMER]


def test_each_other_account_accepts_the_invitation_and_joins_the_network_by_arn(example: dict[str, dict]):
    stacks = example
    network = stacks["network"]["outputs"]["lattice"]["serviceNetworks"]["shop-network"]
    for stack in ("exporter", "consumer"):
        assert declared(stacks[stack], "ram/resourceShareAccepter:ResourceShareAccepter") == [
            {"shareArn": network["share"]}]
    [vpc] = declared(stacks["consumer"], "ServiceNetworkVpcAssociation")
    [service] = declared(stacks["exporter"], "ServiceNetworkServiceAssociation")
    assert vpc["serviceNetworkIdentifier"] == service["serviceNetworkIdentifier"] == network["arn"]


def test_the_service_of_a_route_to_another_accounts_export_is_declared_by_that_accounts_stack(example: dict[str, dict]):
    stacks = example
    assert declared(stacks["consumer"], "vpclattice/service:Service") == []
    [service] = declared(stacks["exporter"], "vpclattice/service:Service")
    assert (service["name"], service["tags"]["application-networking.k8s.aws/RouteName"]) == ("checkout-shop",
                                                                                              "checkout")
    [rule] = declared(stacks["exporter"], "ListenerRule")
    [group] = stacks["exporter"]["outputs"]["lattice"]["exports"][0]["targetGroups"]
    assert rule["action"]["forward"]["targetGroups"] == [{"targetGroupIdentifier": group["arn"], "weight": 1}]


def test_the_routes_cluster_publishes_the_dns_name_of_its_service_declared_in_another_account(example: dict[str, dict]):
    stacks = example
    [hosted] = stacks["exporter"]["outputs"]["lattice"]["hostedServices"]
    assert stacks["consumer"]["outputs"]["lattice"]["routeServices"] == {"HTTPRoute/shop/checkout": {
        "cluster": "exporter", "accountId": EXPORTER, "name": "checkout-shop", "dnsName": hosted["dnsName"]}}
    assert hosted["dnsName"].startswith("checkout-shop-") and hosted["dnsName"].endswith(".vpc-lattice-svcs."
                                                                                         "us-west-2.on.aws")


def test_the_stacks_run_the_network_owner_first_then_the_exporter_then_the_consumer():
    assert run_order(load_fabric(EXAMPLE)) == ["network", "exporter", "consumer"]


def test_a_stack_accepting_a_share_waits_for_the_owner_to_publish_it(example: dict[str, dict]):
    published = copy.deepcopy({stack: example[stack]["outputs"] for stack in ("network", "exporter")})
    del published["network"]["lattice"]["serviceNetworks"]["shop-network"]["share"]  # as before the owner shared it
    [refused] = plan(PROJECT_DIR, EXAMPLE, ["consumer"], known=published)["stacks"]["consumer"]["errors"]
    assert refused == ("stack 'network' has not shared service network 'shop-network' yet, so 'consumer' cannot "
                       "accept it: run `pulumi up` on 'network' first, or, if this change adds it there too, preview "
                       "the whole fabric (`clusterfabric preview`), which reads 'network' as planned")


# --- a fabric preview: the network's owner and the route's host previewed first, read as planned ----------------


def test_a_planned_owner_and_host_publish_the_share_and_the_hosted_service_unknown_until_they_make_them():
    fabric = load_fabric(EXAMPLE)
    network = planned_lattice_output(fabric.spec.cluster("network"), fabric.lattice, None, "(unknown)")
    assert network["serviceNetworks"] == {"shop-network": {"id": "(unknown)", "arn": "(unknown)", "share": "(unknown)"}}
    exporter = planned_lattice_output(fabric.spec.cluster("exporter"), fabric.lattice, None, "(unknown)")
    assert exporter["hostedServices"] == [{"cluster": "consumer", "route": "HTTPRoute/shop/checkout",
                                           "name": "checkout-shop", "arn": "(unknown)", "dnsName": "(unknown)"}]


def test_a_planned_owner_and_host_publish_what_they_have_made_already_as_they_published_it(example: dict[str, dict]):
    fabric = load_fabric(EXAMPLE)
    for stack in ("network", "exporter"):
        published = example[stack]["outputs"]["lattice"]
        assert planned_lattice_output(fabric.spec.cluster(stack), fabric.lattice, published, "(unknown)") == published


def test_a_network_made_before_it_was_shared_keeps_its_id_its_share_unknown(example: dict[str, dict]):
    published = copy.deepcopy(example["network"]["outputs"]["lattice"])
    made = published["serviceNetworks"]["shop-network"]
    del made["share"]
    fabric = load_fabric(EXAMPLE)
    planned = planned_lattice_output(fabric.spec.cluster("network"), fabric.lattice, published, "(unknown)")
    assert planned["serviceNetworks"] == {"shop-network": {**made, "share": "(unknown)"}}


def preview(monkeypatch: pytest.MonkeyPatch, stack: str, planned: str) -> dict:
    """`stack`'s preview under mocks, nothing of the example deployed, these stacks previewed before it."""
    monkeypatch.setenv(PLANNED_PEERS_ENV, planned)
    spec = load_fabric(EXAMPLE).spec.cluster(stack).lattice
    return run_stack({"stack": stack, "outputs": {}, "account": spec.accountId, "region": spec.region,
                      "fabric": str(EXAMPLE), "root": str(PROJECT_DIR)})


@pytest.mark.parametrize("stack, planned, joins, read", [
    ("exporter", "network", "ServiceNetworkServiceAssociation", "'network'"),  # the route's host: its service
    ("consumer", "network,exporter", "ServiceNetworkVpcAssociation", "'exporter' and 'network'"),  # its VPC
])
def test_a_stack_previewed_after_the_owner_and_the_host_accepts_and_joins_the_network_they_will_make(
        monkeypatch, stack: str, planned: str, joins: str, read: str):
    previewed = preview(monkeypatch, stack, planned)
    assert previewed["errors"] == []
    [accepted] = declared(previewed, "ResourceShareAccepter")
    [joined] = declared(previewed, joins)
    assert isinstance(accepted["shareArn"], Unknown) and isinstance(joined["serviceNetworkIdentifier"], Unknown)
    assert previewed["warnings"] == [
        f"{stack!r} is previewed against what {read} will publish after this change (planned: previewed in the same "
        "run), the ARNs and ids of what they have not made yet (target groups, service networks and their shares, "
        "services) not known until they are deployed"]


def test_a_change_to_a_cluster_joining_a_shared_network_previews_the_network_owner_too():
    assert dependencies(load_fabric(EXAMPLE)).affected({"consumer"}) == {"network", "exporter", "consumer"}



def test_a_warning_about_a_routes_service_declared_in_another_account_is_logged_by_both_stacks(accounts: Path):
    edit(accounts, "consumer/gateway.yaml", "      protocol: HTTP\n      port: 80\n", "      protocol: HTTPS\n"
         "      port: 443\n      tls:\n        options:\n          application-networking.k8s.aws/certificate-arn: "
         "arn:aws:acm:us-west-2:222222222222:certificate/0a1b2c3d-4e5f-6789-0abc-def012345678\n")
    fabric = load_fabric(accounts)
    [unserved] = warnings_of(fabric.lattice, "consumer")  # its route has no hostname for the certificate
    assert warnings_of(fabric.lattice, "exporter") == [unserved]  # the stack declaring its service
    assert warnings_of(fabric.lattice, "network") == []


# --- sharing -------------------------------------------------------------------------------------------------


def test_one_cluster_of_an_account_accepts_the_share_and_the_others_of_that_account_wait_for_it(accounts: Path):
    edit(accounts, "fabric.yaml", "      securityGroupIds: [sg-0a1b2c3d4e5f63333]\n",
         "      securityGroupIds: [sg-0a1b2c3d4e5f63333]\n  - name: consumer2\n    dataplane: lattice\n    lattice:\n"
         f'      accountId: "{CONSUMER}"\n      region: us-west-2\n      vpcId: vpc-0a1b2c3d4e5f64444\n')
    shutil.copytree(accounts / "consumer", accounts / "consumer2")
    (accounts / "consumer2" / "checkout.yaml").unlink()
    fabric = load_fabric(accounts)
    assert [(a.cluster, a.account) for a in fabric.lattice.networks.acceptances] == [("exporter", EXPORTER),
                                                                                    ("consumer", CONSUMER)]
    assert dependencies(fabric).hard["consumer2"] == {"network", "consumer"}


def test_a_network_a_cluster_lists_is_created_whether_a_gateway_joins_it_yet_or_not(accounts: Path):
    edit(accounts, "fabric.yaml", "      vpcId: vpc-0a1b2c3d4e5f61111\n",
         "      vpcId: vpc-0a1b2c3d4e5f61111\n      serviceNetworks: [spare-network]\n")
    networks = load_fabric(accounts).lattice.networks
    assert [n.name for n in networks.created_by("network")] == ["shop-network", "spare-network"]
    assert list(networks.shares) == [
        (("111111111111", "us-west-2"), "shop-network")]  # only a network fabric.yaml lists is shared



def test_inside_the_organization_with_sharing_enabled_no_invitation_is_accepted(
        shared_with_organization: dict[str, dict]):
    stacks = shared_with_organization
    assert [declared(stacks[s], "ResourceShareAccepter") for s in ("exporter", "consumer")] == [[], []]


def test_a_network_shared_with_the_organization_names_it_by_its_arn(shared_with_organization: dict[str, dict]):
    assert [p["principal"] for p in declared(shared_with_organization["network"], "PrincipalAssociation")] == [
        ORGANIZATION]


def test_a_network_shared_with_named_accounts_only_is_refused_to_another_account_using_it(accounts: Path):
    edit(accounts, "fabric.yaml", "      owner: network\n", f'      owner: network\n      sharedWith: ["{CONSUMER}"]\n')
    assert lines(accounts) == [
        "consumer/checkout.yaml: HTTPRoute/shop/checkout: spec.parentRefs: its Lattice service is declared in "
        f"account {EXPORTER}, by cluster 'exporter' where its target groups are, and joins service network "
        f"'shop-network', which 'network' shares with {CONSUMER} only, not with account {EXPORTER} (AWS RAM): add "
        "it to sharedWith, or remove sharedWith"]


def test_an_account_outside_the_organization_needs_the_share_to_allow_external_principals(accounts: Path):
    edit(accounts, "fabric.yaml", "lattice:\n", IN_ORGANIZATION.replace(f', "{CONSUMER}"', ""))
    assert lines(accounts) == [
        "fabric.yaml: ServiceNetwork/-/shop-network: lattice.serviceNetworks[0].allowExternalPrincipals: account "
        f"{CONSUMER} is outside lattice.organization: RAM adds it to the share only with allowExternalPrincipals: true"]
    edit(accounts, "fabric.yaml", "      owner: network\n", "      owner: network\n      allowExternalPrincipals: true\n")
    assert lines(accounts) == []
    fabric = load_fabric(accounts)  # outside the Organization, the consumer gets an invitation to accept
    assert [(a.cluster, a.account) for a in fabric.lattice.networks.acceptances] == [("consumer", CONSUMER)]


def test_sharing_with_the_organization_from_an_account_outside_it_is_refused(accounts: Path):
    edit(accounts, "fabric.yaml", "lattice:\n", IN_ORGANIZATION.replace(f'"{NETWORK}", ', ""))
    edit(accounts, "fabric.yaml", "      owner: network\n", "      owner: network\n      sharedWith: [organization]\n")
    assert lines(accounts)[0] == (
        f"fabric.yaml: ServiceNetwork/-/shop-network: lattice.serviceNetworks[0].sharedWith[0]: {ORGANIZATION}: the "
        f"owner's account {NETWORK} is not in lattice.organization: RAM shares with an Organization or OU only from "
        "inside it")


def test_a_route_to_another_accounts_export_through_a_network_fabric_yaml_does_not_list_is_refused(accounts: Path):
    edit(accounts, "fabric.yaml", "  serviceNetworks:\n    - name: shop-network\n      owner: network\n", "  quotas: []\n")
    assert lines(accounts) == [
        "consumer/checkout.yaml: HTTPRoute/shop/checkout: spec.parentRefs: its Lattice service is declared in "
        f"account {EXPORTER}, by cluster 'exporter' where its target groups are, and joins service network "
        f"'shop-network' of account {CONSUMER}, created by 'consumer' and shared with no other account: a service or "
        "VPC of another account joins a network shared with it through AWS RAM; list the network under "
        "lattice.serviceNetworks in fabric.yaml so that its owner shares it"]


# --- one account per service ---------------------------------------------------------------------------------


def test_a_rule_mixing_backends_of_two_accounts_is_refused_naming_both_accounts(accounts: Path):
    (accounts / "consumer" / "cart.yaml").write_text("""apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  ports: [{port: 80}]
""")
    edit(accounts, "consumer/checkout.yaml", "          kind: ServiceImport\n",
         "          kind: ServiceImport\n        - name: cart\n          port: 80\n")
    edit(accounts, "fabric.yaml", "      securityGroupIds: [sg-0a1b2c3d4e5f63333]\n",
         "      securityGroupIds: [sg-0a1b2c3d4e5f63333]\n      targets: {mode: ip, ips: [10.33.1.10]}\n")
    assert lines(accounts) == [
        "consumer/checkout.yaml: HTTPRoute/shop/checkout: spec.rules[0].backendRefs: its rules forward to target "
        f"groups of two accounts: {EXPORTER} (export shop/checkout of cluster exporter) and {CONSUMER} (a Service of "
        "cluster consumer); a listener rule's target groups must be in the account of its Lattice service, so one "
        "route cannot reach both: split the route per account, or narrow its ServiceImports (aws-eks-cluster-name)"]


def test_a_route_to_a_target_group_of_an_account_without_a_cluster_of_the_fabric_is_refused(accounts: Path):
    foreign = "arn:aws:vpc-lattice:us-west-2:999999999999:targetgroup/tg-0abc123def4567890"
    edit(accounts, "consumer/checkout.yaml", "  namespace: shop\nspec: {}\n",
         f"  namespace: shop\n  annotations:\n    application-networking.k8s.aws/target-group-arn: {foreign}\nspec: {{}}\n")
    assert lines(accounts) == [
        f"consumer/checkout.yaml: HTTPRoute/shop/checkout: spec.rules[0].backendRefs: it forwards to target group "
        f"{foreign} of account 999999999999, where no cluster of the fabric declares its Lattice service; a listener "
        f"rule's target groups must be in the account of its service ({CONSUMER})"]


# --- a network that exists -----------------------------------------------------------------------------------


def referencing(accounts: Path) -> None:
    """The example with shop-network existing in the network account: no stack creates it."""
    edit(accounts, "fabric.yaml", "      owner: network\n", f"      arn: {EXISTING}\n")


def test_a_network_that_exists_is_joined_by_its_arn_and_never_created(accounts: Path):
    referencing(accounts)
    stacks = planned(accounts)
    assert [declared(stacks[s], "serviceNetwork:ServiceNetwork") for s in stacks] == [[], [], []]
    assert declared(stacks["network"], "ram/") == []  # its sharing is its owner's, outside the fabric
    [vpc] = declared(stacks["consumer"], "ServiceNetworkVpcAssociation")
    assert vpc["serviceNetworkIdentifier"] == EXISTING


def test_a_cluster_creating_a_network_that_exists_is_refused_as_aws_would(accounts: Path):
    referencing(accounts)
    edit(accounts, "fabric.yaml", "      vpcId: vpc-0a1b2c3d4e5f61111\n",
         "      vpcId: vpc-0a1b2c3d4e5f61111\n      serviceNetworks: [shop-network]\n")
    assert lines(accounts) == [
        "fabric.yaml: Cluster/-/network: lattice.serviceNetworks: service network 'shop-network' exists already "
        f"({EXISTING}): CreateServiceNetwork would answer ConflictException: remove it here"]


def test_a_network_name_that_exists_in_the_owners_account_refuses_its_plan(accounts: Path):
    loaded = load_fabric(accounts)
    lattice = lattice_api(loaded)
    lattice.existing_network(EXISTING, "shop-network")  # made by hand before the fabric's first `up`
    stacks = plan(PROJECT_DIR, accounts, ["network"], fabric=loaded, lattice=lattice)["stacks"]
    [refused] = stacks["network"]["errors"]
    assert refused == (
        "network: network-lattice-shop-network (ServiceNetwork): ConflictException: CreateServiceNetwork: a "
        f"ServiceNetwork named 'shop-network' already exists in this account and Region: {EXISTING} (outside the "
        "fabric)")


# --- fabric.yaml -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, line", [
    ("      owner: network\n", "      owner: shop\n",
     "fabric.yaml: Fabric: lattice.serviceNetworks[0].owner: 'shop' is no Lattice cluster of this fabric (Lattice "
     "clusters: consumer, exporter, network)"),
    ("      owner: network\n", f"      owner: network\n      arn: {EXISTING}\n",
     f"fabric.yaml: Fabric: lattice.serviceNetworks[0].owner: service network 'shop-network' exists ({EXISTING}): no "
     "cluster creates it; remove owner or arn"),
    ("      owner: network\n", "      owner: network\n      sharedWith: [organization]\n",
     "fabric.yaml: Fabric: lattice.serviceNetworks[0].sharedWith[0]: sharing with the Organization needs "
     "lattice.organization (declared where sharing with AWS Organizations is enabled)"),
    ("      owner: network\n", "      owner: network\n      sharedWith: [arn:aws:organizations::111111111111:ou/"
     "o-a1b2c3d4e5/ou-ab12-cd34ef56]\n",
     "fabric.yaml: Fabric: lattice.serviceNetworks[0].sharedWith[0]: arn:aws:organizations::111111111111:ou/"
     "o-a1b2c3d4e5/ou-ab12-cd34ef56 is not among lattice.organization.units (each with its accounts)"),
    ("      owner: network\n", "      owner: network\n      sharedWith: [everyone]\n",
     "fabric.yaml: Fabric: lattice.serviceNetworks[0].sharedWith[0]: String should match pattern"),
])
def test_a_bad_service_network_entry_is_refused_naming_its_field(accounts: Path, old: str, new: str, line: str):
    edit(accounts, "fabric.yaml", old, new)
    [problem] = lines(accounts)
    assert problem.startswith(line)


def test_the_documented_fabric_yaml_of_several_accounts_is_valid():
    text = (PROJECT_DIR / "docs" / "lattice.md").read_text()
    snippet = re.search(r"## Across accounts.*?```yaml\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]
    settings = yaml.safe_load(snippet)["lattice"]
    spec = parse(FabricSpec, {"clusters": [{"name": "network", "dataplane": "lattice", "lattice": {
        "accountId": NETWORK, "region": "us-west-2", "vpcId": "vpc-0a1b2c3d4e5f61111"}}], "lattice": settings},
        "docs/lattice.md", "Fabric")
    assert [n.name for n in spec.lattice.serviceNetworks] == ["shop-network", "partner-network"]
