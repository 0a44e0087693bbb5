"""The stateful Lattice fake: it refuses what the VPC Lattice API refuses, with AWS's error names, so a plan fails
where `up` on AWS would. Checked call by call (each rule), then against whole fabrics: the example plans cleanly,
and the previous release's plan of the same example is refused where issue 16 says AWS refuses it."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from clusterfabric.offline.lattice_fake import LatticeError, LatticeFake
from clusterfabric.offline.plan import lattice_api, mocked_identity, plan
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import load_fabric
from tests.unit.fake_account import LATTICE, SCOPE, VPC, Account

# --- names --------------------------------------------------------------------------------------------------


def test_a_target_group_name_taken_in_the_account_and_region_is_a_conflict():
    cluster1, cluster2 = Account(stack="cluster1"), None
    cluster1.target_group("k8s-checkout-default-80-http-http1")
    cluster2 = Account(cluster1.lattice, stack="cluster2")
    cluster2.target_group("k8s-checkout-default-80-http-http1")
    assert cluster2.refused() == (
        "ConflictException: CreateTargetGroup: a TargetGroup named 'k8s-checkout-default-80-http-http1' already exists "
        "in this account and Region: k8s-checkout-default-80-http-http1 of stack cluster1")


def test_the_same_name_in_another_region_is_another_target_group():
    cluster1 = Account()
    cluster1.target_group("k8s-checkout")
    other = Account(cluster1.lattice, scope=("111122223333", "us-east-1"), stack="cluster9")
    other.target_group("k8s-checkout")
    assert cluster1.refusals + other.refusals == []


def test_a_service_name_taken_in_the_account_and_region_is_a_conflict():
    account = Account()
    account.service("checkout-default")
    account.service("checkout-default")
    assert account.refused().startswith("ConflictException: CreateService: a Service named 'checkout-default' "
                                        "already exists in this account and Region")


def test_a_service_network_name_taken_in_the_account_and_region_is_a_conflict():
    account = Account()
    account.network()
    account.network()
    assert account.refused().startswith("ConflictException: CreateServiceNetwork: a ServiceNetwork named "
                                        "'fabric-network' already exists")


@pytest.mark.parametrize("typ, name, constraint", [
    ("serviceNetwork:ServiceNetwork", "ab", "have length between 3 and 63"),
    ("service:Service", "s" * 41, "have length between 3 and 40"),
    ("service:Service", "svc-checkout", "satisfy regular expression pattern"),
    ("targetGroup:TargetGroup", "tg-checkout", "satisfy regular expression pattern"),
    ("targetGroup:TargetGroup", "k8s--checkout", "satisfy regular expression pattern"),
    ("targetGroup:TargetGroup", "K8s-Checkout", "satisfy regular expression pattern"),
    ("targetGroup:TargetGroup", "t" * 129, "have length between 3 and 128"),
])
def test_a_name_outside_the_api_model_is_a_validation_error(typ: str, name: str, constraint: str):
    account = Account()
    {"serviceNetwork:ServiceNetwork": account.network, "service:Service": account.service,
     "targetGroup:TargetGroup": account.target_group}[typ](name)
    assert account.refused().startswith(f"ValidationException: Create{typ.rsplit(':', 1)[1]}: 1 validation error "
                                        f"detected: Value {name!r} at 'name' failed to satisfy constraint: Member "
                                        f"must {constraint}")


# --- a target group serves one service ------------------------------------------------------------------------


def test_a_target_group_used_by_another_service_is_a_conflict():
    account = Account()
    group = account.target_group("k8s-checkout")
    first, second = account.service("checkout-default"), account.service("checkout-canary-default")
    account.rule(first, account.listener(first), forward=[group])
    account.rule(second, account.listener(second, "checkout-canary-default-80-http"), "canary-r1", forward=[group])
    assert account.refused() == (
        f"ConflictException: CreateRule: TargetGroup {group['id']} (k8s-checkout) has been associated with other "
        "services: it serves service 'checkout-default' (checkout-default of stack cluster1) already")


def test_a_target_group_serves_several_listeners_and_rules_of_its_one_service():
    account = Account()
    group = account.target_group("k8s-checkout")
    service = account.service()
    http = account.listener(service)
    https = account.listener(service, "checkout-default-443-https", 443, "HTTPS")
    for listener in (http, https):
        account.rule(service, listener, forward=[group])
    assert account.refusals == []


# --- VPC associations ---------------------------------------------------------------------------------------


def test_a_vpc_associated_twice_with_one_network_is_a_conflict():
    cluster2 = Account(stack="cluster2")
    network = cluster2.network()
    cluster2.associate(network, "vpc-0a1b2c3d4e5f60002")
    cluster3 = Account(cluster2.lattice, stack="cluster3")
    cluster3.associate(network, "vpc-0a1b2c3d4e5f60002")
    assert cluster3.refused().startswith(
        "ConflictException: CreateServiceNetworkVpcAssociation: vpc-0a1b2c3d4e5f60002 is associated with service "
        "network 'fabric-network' already (vpc-0a1b2c3d4e5f60002-")


def test_a_vpc_associated_with_a_second_network_is_a_conflict():
    account = Account()
    account.associate(account.network("fabric-network"))
    account.associate(account.network("other-network"))
    assert account.refused().endswith("a VPC can be associated with one service network only")


def test_more_than_five_security_groups_on_an_association_is_a_validation_error():
    account = Account()
    account.associate(account.network(), groups=[f"sg-0a1b2c3d4e5f6000{i}" for i in range(6)])
    assert account.refused().startswith("ValidationException: CreateServiceNetworkVpcAssociation: 1 validation error "
                                        "detected: Value")
    assert account.refused().endswith("at 'securityGroupIds' failed to satisfy constraint: Member must have length "
                                      "between 0 and 5")


def test_a_service_associated_twice_with_a_network_is_a_conflict():
    account = Account()
    network, service = account.network(), account.service()
    for name in ("a", "b"):
        account.create("serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation", name,
                       serviceIdentifier=service["id"], serviceNetworkIdentifier=network["id"])
    assert account.refused().startswith("ConflictException: CreateServiceNetworkServiceAssociation: service "
                                        "'checkout-default' is associated with 'fabric-network' already")


# --- quotas --------------------------------------------------------------------------------------------------


def test_a_third_listener_exceeds_the_default_quota_of_two_per_service():
    account = Account()
    service = account.service()
    for port in (80, 8080, 8081):
        account.listener(service, f"checkout-default-{port}-http", port)
    assert account.refused() == ("ServiceQuotaExceededException: CreateListener: service 'checkout-default' has 2 "
                                 "listeners; the quota is 2 per service")


def test_a_raised_listener_quota_lets_a_third_listener_in():
    account = Account(LatticeFake({SCOPE: {"listenersPerService": 3}}))
    service = account.service()
    for port in (80, 8080, 8081):
        account.listener(service, f"checkout-default-{port}-http", port)
    assert account.refusals == []


def test_an_eleventh_rule_exceeds_the_default_quota_of_ten_per_listener():
    account = Account()
    group, service = account.target_group(), account.service()
    listener = account.listener(service)
    for i in range(11):
        account.rule(service, listener, f"checkout-r{i + 1}", i + 1, forward=[group])
    assert account.refused() == ("ServiceQuotaExceededException: CreateRule: listener 'checkout-default-80-http' "
                                 "has 10 rules; the quota is 10 per listener")


def test_a_forward_action_to_eleven_target_groups_is_a_validation_error():
    account = Account()
    groups = [account.target_group(f"k8s-checkout-{i}") for i in range(11)]
    service = account.service()
    account.rule(service, account.listener(service), forward=groups)
    assert account.refused().endswith("at 'action.forward.targetGroups' failed to satisfy constraint: Member must "
                                      "have length between 1 and 10")


def test_a_weight_of_1000_is_a_validation_error():
    account = Account()
    group, service = account.target_group(), account.service()
    account.rule(service, account.listener(service), forward=[group], weight=1000)
    assert account.refused() == (
        "ValidationException: CreateRule: 1 validation error detected: Value 1000 at "
        "'action.forward.targetGroups[0].weight' failed to satisfy constraint: Member must have value between 0 and 999")


# --- listeners and rules ------------------------------------------------------------------------------------


def test_two_listeners_on_one_port_of_a_service_are_a_conflict():
    account = Account()
    service = account.service()
    account.listener(service, "checkout-default-80-http")
    account.listener(service, "checkout-default-80-https", 80, "HTTPS")
    assert account.refused().startswith("ConflictException: CreateListener: service 'checkout-default' has a "
                                        "listener named 'checkout-default-80-http' on port 80 already")


def test_two_rules_of_one_priority_on_a_listener_are_a_conflict():
    account = Account()
    group, service = account.target_group(), account.service()
    listener = account.listener(service)
    account.rule(service, listener, "checkout-r1", 1, forward=[group])
    account.rule(service, listener, "checkout-r2", 1, forward=[group])
    assert account.refused().startswith("ConflictException: CreateRule: listener 'checkout-default-80-http' has "
                                        "rule 'checkout-r1' of priority 1 already")


def test_a_tls_passthrough_listener_takes_no_rules():
    account = Account()
    group, service = account.target_group("k8s-payments", "TCP"), account.service(customDomainName="pay.example.com")
    listener = account.listener(service, "payments-default-8443-tls", 8443, "TLS_PASSTHROUGH", forward=[group])
    account.rule(service, listener, forward=[group])
    assert account.refused() == ("ValidationException: CreateRule: a TLS_PASSTHROUGH listener takes no rules: only "
                                 "its default action")


def test_a_tls_passthrough_listener_on_a_service_without_a_custom_domain_name_is_a_validation_error():
    """The TLS listeners page: "The VPC Lattice service must have a custom domain name" (its SNI match)."""
    account = Account()
    group, service = account.target_group("k8s-payments", "TCP"), account.service()
    account.listener(service, "payments-default-8443-tls", 8443, "TLS_PASSTHROUGH", forward=[group])
    assert account.refused() == ("ValidationException: CreateListener: a TLS_PASSTHROUGH listener needs a service "
                                 "with a custom domain name, and 'checkout-default' has none")


def test_an_http_listener_cannot_forward_to_a_tcp_target_group():
    account = Account()
    group, service = account.target_group("k8s-payments", "TCP"), account.service()
    account.rule(service, account.listener(service), forward=[group])
    assert account.refused() == ("ValidationException: CreateRule: target group 'k8s-payments' (TCP) cannot serve a "
                                 "HTTP listener")


@pytest.mark.parametrize("match, where, constraint", [
    ({"headerMatches": [{"name": "x" * 101, "match": {"exact": "1"}}]}, "match.httpMatch.headerMatches[0].name",
     "have length between 1 and 100"),
    ({"pathMatch": {"match": {"prefix": "/legacy$"}}}, "match.httpMatch.pathMatch.match.prefix",
     "satisfy regular expression pattern"),
    ({"headerMatches": [{"name": f"x-{i}", "match": {"exact": "1"}} for i in range(6)]},
     "match.httpMatch.headerMatches", "have length between 1 and 5"),
])
def test_a_match_outside_the_api_model_is_a_validation_error(match: dict, where: str, constraint: str):
    account = Account()
    group, service = account.target_group(), account.service()
    account.rule(service, account.listener(service), forward=[group], match=match)
    assert f"at '{where}' failed to satisfy constraint: Member must {constraint}" in account.refused()


def test_a_rule_priority_above_2000_is_a_validation_error():
    account = Account()
    group, service = account.target_group(), account.service()
    account.rule(service, account.listener(service), priority=2001, forward=[group])
    assert account.refused().endswith("at 'priority' failed to satisfy constraint: Member must have value between 1 "
                                      "and 2000")


# --- target groups and services -----------------------------------------------------------------------------


def test_a_tcp_target_group_with_a_protocol_version_is_a_validation_error():
    account = Account()
    account.target_group("k8s-payments", "TCP", protocolVersion="HTTP1")
    assert account.refused() == "ValidationException: CreateTargetGroup: a TCP target group takes no protocol version"


def test_a_health_check_on_an_alb_target_group_is_a_validation_error():
    account = Account()
    account.target_group(type="ALB", healthCheck={"enabled": False})
    assert account.refused() == ("ValidationException: CreateTargetGroup: health checks are not supported for target "
                                 "groups of type ALB")


def test_a_health_check_interval_of_301_seconds_is_a_validation_error():
    account = Account()
    account.target_group(healthCheck={"enabled": True, "healthCheckIntervalSeconds": 301})
    assert account.refused().endswith("at 'config.healthCheck.healthCheckIntervalSeconds' failed to satisfy "
                                      "constraint: Member must have value between 0 and 300")


def test_a_certificate_without_a_custom_domain_name_is_accepted():
    """CreateService documents certificateArn and customDomainName as independent optional fields."""
    account = Account()
    account.service(certificateArn="arn:aws:acm:us-west-2:111122223333:certificate/0a1b2c3d")
    assert account.refusals == []


def test_a_tag_key_aws_keeps_for_itself_is_a_validation_error():
    account = Account()
    account.create("serviceNetwork:ServiceNetwork", "net", name="fabric-network", tags={"aws:team": "x"})
    assert "at 'tags' failed to satisfy constraint" in account.refused()


def test_a_target_group_of_another_region_is_not_found():
    west = Account()
    east = Account(west.lattice, scope=("111122223333", "us-east-2"), stack="east")
    group = east.target_group()
    service = west.service()
    west.rule(service, west.listener(service), forward=[group])
    assert west.refused() == (f"ResourceNotFoundException: CreateRule: TargetGroup {group['arn']} was not found in "
                              "this account and Region")


def test_what_needs_a_refused_resource_is_not_attempted_and_not_refused_again():
    account = Account()
    group = account.target_group("tg-refused")  # a reserved prefix: refused
    service = account.service()
    account.rule(service, account.listener(service), forward=[group])
    assert len(account.refusals) == 1 and "CreateTargetGroup" in account.refusals[0]


# --- deletes, updates, and the state another process sees (the fake AWS provider plugin of the engine tests) ----


def delete(account: Account, typ: str, resource: dict[str, Any]) -> str | None:
    """Delete as the API does; the refusal's code and message, or None."""
    try:
        account.lattice.delete(account.scope, f"{LATTICE}{typ}", resource["arn"] or resource["id"])
    except LatticeError as err:
        return str(err)
    return None


def test_a_deleted_service_networks_name_is_free_again():
    account = Account()
    network = account.network()
    assert delete(account, "serviceNetwork:ServiceNetwork", network) is None
    account.network()
    assert account.refusals == []


def test_a_service_network_with_an_associated_vpc_is_not_deleted():
    account = Account()
    network = account.network()
    account.associate(network)
    assert delete(account, "serviceNetwork:ServiceNetwork", network).startswith(
        f"ConflictException: DeleteServiceNetwork: ServiceNetwork {network['id']} (fabric-network) is in use: "
        "VpcAssociation")


def test_a_target_group_is_deleted_once_no_listener_forwards_to_it_and_serves_another_service_after():
    account = Account()
    group, checkout = account.target_group(), account.service("checkout")
    listener = account.listener(checkout, forward=[group])
    assert delete(account, "targetGroup:TargetGroup", group).startswith(
        f"ConflictException: DeleteTargetGroup: TargetGroup {group['id']} (k8s-checkout) is in use: Listener")
    assert delete(account, "listener:Listener", listener) is None
    account.listener(account.service("payments"), name="payments-80", forward=[group])
    assert account.refusals == []


def test_a_deleted_service_takes_its_listeners_and_rules_with_it():
    account = Account()
    service = account.service()
    listener = account.listener(service)
    account.rule(service, listener)
    assert delete(account, "service:Service", service) is None
    assert sorted(r.kind for r in account.lattice.region(SCOPE).records.values()) == []


def test_deleting_what_does_not_exist_is_not_found():
    account = Account()
    network = account.network()
    delete(account, "serviceNetwork:ServiceNetwork", network)
    assert delete(account, "serviceNetwork:ServiceNetwork", network) == (
        f"ResourceNotFoundException: DeleteServiceNetwork: {network['arn']} was not found in this account and Region")


def test_an_update_is_checked_as_a_create_without_the_old_resource():
    account = Account()
    service = account.service()
    account.listener(service, name="checkout-80", port=80)
    second = account.listener(service, name="checkout-8080", port=8080)
    inputs = {"name": "checkout-8080", "protocol": "HTTP", "serviceIdentifier": service["id"],
              "defaultAction": {"fixedResponse": {"statusCode": 404}}}
    account.lattice.update(SCOPE, f"{LATTICE}listener:Listener", second["arn"], {**inputs, "port": 8081})
    with pytest.raises(LatticeError, match="ConflictException: CreateListener: service 'checkout-default' has a "
                                           "listener named 'checkout-80' on port 80 already"):
        account.lattice.update(SCOPE, f"{LATTICE}listener:Listener", second["arn"], {**inputs, "port": 80})


def test_the_state_in_a_file_is_what_the_next_process_sees_and_a_refused_change_leaves_it_as_it_was(tmp_path: Path):
    path = tmp_path / "aws.json"
    with LatticeFake.stored(path) as fake:
        Account(fake, stack="cluster1").network()
    before = path.read_text()
    with pytest.raises(LatticeError, match="ConflictException: CreateServiceNetwork"):
        with LatticeFake.stored(path) as fake:
            fake.create("cluster2", SCOPE, f"{LATTICE}serviceNetwork:ServiceNetwork", "net", "sn-0", None,
                        {"name": "fabric-network"})
    assert path.read_text() == before
    assert [(r.name, r.stack) for r in LatticeFake.from_json(json.loads(before)).region(SCOPE).records.values()] == [
        ("fabric-network", "cluster1")]


# --- whole fabrics ---------------------------------------------------------------------------------------------


def test_the_example_fabric_plans_cleanly_under_the_fake_each_vpc_associated_once():
    fabric = load_fabric(PROJECT_DIR / "config")
    lattice = lattice_api(fabric)
    stacks = plan(PROJECT_DIR, PROJECT_DIR / "config", ["cluster1", "cluster2", "cluster3"], fabric=fabric,
                  lattice=lattice)["stacks"]
    assert {s: e.get("errors") for s, e in stacks.items()} == {s: None for s in stacks}
    region = lattice.regions[SCOPE]
    assert sorted((r.fields["vpc"], region.records[r.fields["network"]].name) for r in region.of("VpcAssociation")) == [
        ("vpc-0a1b2c3d4e5f60001", "fabric-network"), ("vpc-0a1b2c3d4e5f60002", "fabric-network")]
    assert len(region.of("TargetGroup")) == 6 and all(g.fields.get("service") for g in region.of("TargetGroup"))


def previous_release_resources(tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """What release 0.1's program declares for each Lattice stack of the example, stack after stack."""
    with tarfile.open(PROJECT_DIR / "tests" / "fixtures" / "releases" / "v0.1.0.tar.gz") as archive:
        archive.extractall(tmp, filter="data")
    published: dict[str, Any] = {}
    found = {}
    for stack in ("cluster1", "cluster2", "cluster3"):  # the order `up` runs them in
        done = subprocess.run([sys.executable, str(PROJECT_DIR / "tests" / "urns_child.py"), str(tmp),
                               str(tmp / "config"), stack], input=json.dumps(published), capture_output=True,
                              text=True, cwd=tmp)
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(done.stdout)
        published[stack], found[stack] = result["outputs"], result["resources"]
    return found


def test_the_previous_releases_plan_of_the_example_is_refused_where_aws_refuses_it(tmp_path: Path):
    lattice = LatticeFake()
    refused = {}
    for stack, resources in previous_release_resources(tmp_path).items():
        refused[stack] = lattice.replay(stack, SCOPE, resources, mocked_identity(stack, SCOPE[1], SCOPE[0]))
    assert refused["cluster1"] == []
    [name_taken] = refused["cluster2"]  # the second cluster: its target group's name is cluster1's
    assert name_taken.startswith("cluster2: cluster2-lattice-default-checkout-80-http (TargetGroup): "
                                 "ConflictException: CreateTargetGroup: a TargetGroup named "
                                 "'k8s-checkout-default-80-http-http1' already exists in this account and Region")
    name, association = sorted(refused["cluster3"])  # the third: its VPC is cluster2's, its target group's name too
    assert association.startswith("cluster3: cluster3-lattice-fabric-network-vpc (ServiceNetworkVpcAssociation): "
                                  "ConflictException: CreateServiceNetworkVpcAssociation: vpc-0a1b2c3d4e5f60002 is "
                                  "associated with service network 'fabric-network' already")
    assert name.startswith("cluster3: cluster3-lattice-default-checkout-80-http (TargetGroup): ConflictException: "
                           "CreateTargetGroup: a TargetGroup named 'k8s-checkout-default-80-http-http1' already exists")
