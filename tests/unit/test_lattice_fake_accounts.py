"""The stateful Lattice fake across accounts: each account's resources apart, AWS RAM's shares, invitations and
acceptance, and what another account may do with a shared service network (DESIGN.md §4, from the VPC Lattice and
RAM user guides): each rule refuses what AWS refuses, with AWS's error name."""

from __future__ import annotations

import json
from pathlib import Path

from clusterfabric.offline.lattice_fake import LatticeError, LatticeFake, Organization
from tests.unit.fake_account import LATTICE, Account

REGION = "us-west-2"
NETWORK, EXPORTER, CONSUMER, PARTNER = "111111111111", "222222222222", "333333333333", "444455556666"
ORGANIZATION = "arn:aws:organizations::111111111111:organization/o-a1b2c3d4e5"
UNIT = "arn:aws:organizations::111111111111:ou/o-a1b2c3d4e5/ou-ab12-cd34ef56"
CONSUMER_VPC = "vpc-0a1b2c3d4e5f60003"


def accounts(organization: Organization | None = None) -> tuple[Account, Account, Account]:
    """The network, exporter and consumer accounts of one Region, each with the stack named after it."""
    lattice = LatticeFake(organization=organization)
    return (Account(lattice, (NETWORK, REGION), "network"), Account(lattice, (EXPORTER, REGION), "exporter"),
            Account(lattice, (CONSUMER, REGION), "consumer"))


def in_organization() -> Organization:
    """The three accounts in one Organization with sharing enabled; its one OU holds the consumer."""
    return Organization(ORGANIZATION, [NETWORK, EXPORTER, CONSUMER], {UNIT: [CONSUMER]})


def refusals(*stacks: Account) -> list[str]:
    return [r for stack in stacks for r in stack.refusals]


# --- accounts ------------------------------------------------------------------------------------------------


def test_each_account_has_its_own_names():
    network, exporter, _ = accounts()
    network.network()
    exporter.network()  # the same name, another account
    assert refusals(network, exporter) == []


def test_a_network_name_that_exists_in_the_account_already_is_taken():
    network, _, _ = accounts()
    existing = f"arn:aws:vpc-lattice:{REGION}:{NETWORK}:servicenetwork/sn-0a1b2c3d4e5f60001"
    network.lattice.existing_network(existing, "fabric-network")
    network.network()
    assert network.refused() == ("ConflictException: CreateServiceNetwork: a ServiceNetwork named 'fabric-network' "
                                 f"already exists in this account and Region: {existing} (outside the fabric)")


# --- a network of another account ------------------------------------------------------------------------------


def test_a_vpc_joins_a_network_shared_with_its_account_by_arn_once_it_accepted_the_invitation():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.accept(network.share(fabric_network, CONSUMER))
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    assert refusals(network, consumer) == []


def test_a_network_of_another_account_not_shared_with_it_is_access_denied():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    assert consumer.refused() == (f"AccessDeniedException: CreateServiceNetworkVpcAssociation: ServiceNetwork "
                                  f"{fabric_network['arn']} of account {NETWORK} is not shared with account {CONSUMER} "
                                  "through AWS RAM")


def test_a_shared_network_whose_invitation_is_not_accepted_is_access_denied():
    network, _, consumer = accounts()
    fabric_network = network.network()
    share = network.share(fabric_network, CONSUMER)
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    assert consumer.refused().endswith(f"is not shared with account {CONSUMER}: its invitation to share "
                                       f"{share['arn']} is not accepted")


def test_a_shared_network_named_by_its_id_from_another_account_is_not_found():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.accept(network.share(fabric_network, CONSUMER))
    consumer.associate(fabric_network, CONSUMER_VPC)
    assert consumer.refused() == (
        f"ResourceNotFoundException: CreateServiceNetworkVpcAssociation: ServiceNetwork {fabric_network['id']} was "
        f"not found in this account and Region (it is account {NETWORK}'s: \"You must use an ARN if the resources are "
        "in different accounts\")")


def test_inside_the_organization_with_sharing_enabled_access_needs_no_invitation():
    network, exporter, consumer = accounts(in_organization())
    fabric_network = network.network()
    network.share(fabric_network, ORGANIZATION)
    exporter.associate(fabric_network, by="arn")
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    assert refusals(network, exporter, consumer) == []


def test_a_share_with_an_organizational_unit_reaches_its_accounts_only():
    network, exporter, consumer = accounts(in_organization())
    fabric_network = network.network()
    network.share(fabric_network, UNIT)
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    exporter.associate(fabric_network, by="arn")
    assert consumer.refusals == []
    assert exporter.refused().endswith(f"is not shared with account {EXPORTER} through AWS RAM")


def test_accepting_where_no_invitation_is_sent_is_refused():
    network, _, consumer = accounts(in_organization())
    share = network.share(network.network(), CONSUMER)
    consumer.accept(share)
    assert consumer.refused() == (
        f"ResourceShareInvitationArnNotFoundException: AcceptResourceShareInvitation: no invitation to share "
        f"{share['arn']} for account {CONSUMER}: inside the Organization access is immediate")


def test_an_invitation_is_accepted_once():
    network, _, consumer = accounts()
    share = network.share(network.network(), CONSUMER)
    consumer.accept(share)
    consumer.accept(share, name="accepted-again")
    assert consumer.refused() == (f"ResourceShareInvitationAlreadyAcceptedException: AcceptResourceShareInvitation: "
                                  f"account {CONSUMER} accepted the invitation to share {share['arn']} already")


# --- services across accounts ----------------------------------------------------------------------------------


def test_a_service_joins_a_network_shared_with_its_account():
    network, exporter, _ = accounts()
    fabric_network = network.network()
    exporter.accept(network.share(fabric_network, EXPORTER))
    exporter.associate_service(exporter.service(), fabric_network)
    assert refusals(network, exporter) == []


def test_a_service_association_whose_caller_owns_neither_the_service_nor_the_network_is_access_denied():
    network, exporter, consumer = accounts()
    fabric_network, checkout = network.network(), exporter.service()
    consumer.accept(network.share(fabric_network, CONSUMER))
    consumer.accept(exporter.share(checkout, CONSUMER, name="checkout"), name="checkout-accepted")
    consumer.associate_service(checkout, fabric_network)
    assert consumer.refused() == (
        f"AccessDeniedException: CreateServiceNetworkServiceAssociation: account {CONSUMER} owns neither service "
        "'checkout-default' nor service network 'fabric-network': the caller of a service association owns one of them")


def test_a_rule_forwarding_to_a_target_group_of_another_account_is_refused():
    _, exporter, consumer = accounts()
    group = exporter.target_group()
    service = consumer.service()
    consumer.rule(service, consumer.listener(service), forward=[group])
    assert consumer.refused() == (
        f"ValidationException: CreateRule: target group {group['arn']} is in account {EXPORTER}: a listener rule's "
        f"target groups must be in the account of its service ({CONSUMER})")


def test_another_accounts_service_is_changed_by_its_owner_only():
    _, exporter, consumer = accounts()
    service = exporter.service()
    consumer.listener({"id": service["arn"]})
    assert consumer.refused() == (f"AccessDeniedException: CreateListener: Service {service['arn']} belongs to account "
                                  f"{EXPORTER}: only its owner changes it")


# --- sharing ---------------------------------------------------------------------------------------------------


def test_a_resource_shared_with_you_cannot_be_shared_again():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.accept(network.share(fabric_network, CONSUMER))
    consumer.share(fabric_network, PARTNER, external=True)
    assert consumer.refused() == (
        f"OperationNotPermittedException: AssociateResourceShare: ServiceNetwork {fabric_network['arn']} is account "
        f"{NETWORK}'s, shared with account {CONSUMER}: a resource shared with you cannot be shared again")


def test_only_its_owner_shares_a_resource():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.share(fabric_network, PARTNER)
    assert consumer.refused() == (f"UnknownResourceException: AssociateResourceShare: ServiceNetwork "
                                  f"{fabric_network['arn']} was not found in account {CONSUMER}: only its owner shares "
                                  "a resource")


def test_a_target_group_cannot_be_shared():
    _, exporter, _ = accounts()
    group = exporter.target_group()
    exporter.share(group, CONSUMER)
    assert exporter.refused() == (f"InvalidParameterException: AssociateResourceShare: {group['arn']} cannot be "
                                  "shared: RAM shares VPC Lattice service networks, services and resource "
                                  "configurations only")


def test_sharing_with_an_organization_needs_sharing_with_organizations_enabled():
    network, _, _ = accounts()  # in no Organization
    network.share(network.network(), ORGANIZATION)
    assert network.refused() == (f"OperationNotPermittedException: AssociateResourceShare: {ORGANIZATION} is not the "
                                 f"Organization of account {NETWORK} or one of its units with sharing with AWS "
                                 "Organizations enabled")


def test_a_share_with_another_organization_or_an_ou_not_of_its_own_is_refused():
    for foreign in ("arn:aws:organizations::999999999999:organization/o-z9y8x7w6v5",
                    "arn:aws:organizations::111111111111:ou/o-a1b2c3d4e5/ou-zz99-zz99zz99"):
        network, _, _ = accounts(in_organization())
        network.share(network.network(), foreign)
        assert network.refused() == (f"OperationNotPermittedException: AssociateResourceShare: {foreign} is not the "
                                     f"Organization of account {NETWORK} or one of its units with sharing with AWS "
                                     "Organizations enabled")


def test_an_account_outside_the_organization_needs_a_share_allowing_external_principals():
    network, _, _ = accounts(in_organization())
    fabric_network = network.network()
    network.share(fabric_network, PARTNER)
    network.share(fabric_network, PARTNER, external=True, name="partners")
    assert network.refused() == (f"OperationNotPermittedException: AssociateResourceShare: account {PARTNER} is "
                                 "outside the Organization and share 'fabric-network' does not allow external "
                                 "principals")


# --- deleting --------------------------------------------------------------------------------------------------


def test_a_network_another_accounts_vpc_is_associated_with_is_not_deleted():
    network, _, consumer = accounts()
    fabric_network = network.network()
    consumer.accept(network.share(fabric_network, CONSUMER))
    consumer.associate(fabric_network, CONSUMER_VPC, by="arn")
    with_association = _deleted(network, fabric_network)
    assert with_association is not None and with_association.startswith(
        f"ConflictException: DeleteServiceNetwork: ServiceNetwork {fabric_network['id']} (fabric-network) is in use: "
        "VpcAssociation")


def _deleted(account: Account, network: dict) -> str | None:
    try:
        account.lattice.delete(account.scope, f"{LATTICE}serviceNetwork:ServiceNetwork", network["arn"])
    except LatticeError as err:
        return str(err)
    return None


def test_the_organization_and_the_shares_are_what_the_next_process_sees(tmp_path: Path):
    path = tmp_path / "aws.json"
    with LatticeFake.stored(path) as fake:
        fake.organization = in_organization()
        network = Account(fake, (NETWORK, REGION), "network")
        network.share(network.network(), ORGANIZATION)
    consumer = Account(LatticeFake.from_json(json.loads(path.read_text())), (CONSUMER, REGION), "consumer")
    [fabric_network] = consumer.lattice.region((NETWORK, REGION)).of("ServiceNetwork")
    consumer.associate({"id": fabric_network.id, "arn": fabric_network.arn}, CONSUMER_VPC, by="arn")
    assert consumer.refusals == []
