"""Pull requests adding a Lattice export and the route that uses it, replayed as a CI runner sees them, on the real
engine with the fake AWS plugin (tests/fake_aws) as the project's `aws` provider: the base deployed from a
checkout, then `comment` run from a fresh clone previews the change before the export exists.

In one account: cluster1 owns the service network and exports checkout; cluster3 routes to it. The pull request,
in one commit, exports orders from cluster1 and routes to it from cluster3. cluster3's preview reads cluster1 as
planned (previewed before it in the same run): the target group cluster1 will make for the new route, its ARN
unknown, as a preview shows what is still to be created. Merged and deployed, the route forwards to the target
group cluster1 made.

Across accounts (examples/lattice-accounts): the network account shares shop-network with the consumer's account,
the only other one. The pull request adds the exporter's cluster, in a third account, exporting checkout, and the
consumer's route to it, whose Lattice service the exporter's stack declares in its account: the network's owner
previews sharing with the exporter's account too, the new exporter stack accepts and joins the network as the
owner plans it, and the consumer reads the exporter (its route's host, never deployed) and the owner as planned.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from clusterfabric import Fabric
from clusterfabric.gitops.comment import pr_comment
from clusterfabric.offline.plan import lattice_api
from clusterfabric.toolchain import PROJECT_DIR, pulumi_env
from clusterfabric.components.model import load_fabric
from tests.example_fabric import keep_clusters
from tests.fake_aws import point_at_fake_aws, use_fake_aws
from tests.pull_request_replay import commit_appended, created, fresh_clone, origin_repository, shared_backend
from tests.pulumi_project import PulumiProject

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

LATTICE = ("cluster1", "cluster3")
ACCOUNTS = PROJECT_DIR / "examples" / "lattice-accounts"

ORDERS_EXPORT = """---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: default}
spec:
  selector: {app: orders}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: ServiceExport
metadata:
  name: orders
  namespace: default
  annotations: {application-networking.k8s.aws/federation: amazon-vpc-lattice}
spec:
  exportedPorts: [{port: 80, routeType: HTTP}]
"""
ORDERS_ROUTE = """---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: ServiceImport
metadata: {name: orders, namespace: default}
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orders, namespace: default}
spec:
  parentRefs: [{name: fabric-network, sectionName: http}]
  rules:
    - backendRefs: [{name: orders, kind: ServiceImport}]
"""


def lattice_fabric(config: Path) -> None:
    """The example's cluster1 and cluster3 alone, without cluster3's route to what only cluster2 exports."""
    keep_clusters(config, LATTICE)
    for file in ("routes.yaml", "imports.yaml"):
        path = config / "cluster3" / file
        path.write_text("---".join(d for d in path.read_text().split("---") if "inventory" not in d))


def lattice_program(program: Path) -> None:
    """The program with the Lattice fabric, its `aws` provider the fake plugin."""
    lattice_fabric(program / "config")
    point_at_fake_aws(program / "Pulumi.yaml")


def replayed(root: Path, prepare, message: str, appended: dict[str, str]) -> dict:
    """The base (`prepare`d) up from a checkout against the fake AWS accounts, then the commit appending `appended`
    previewed by `comment` from a fresh clone."""
    origin, base = origin_repository(root, prepare)
    state = root / "aws.json"
    state.write_text(json.dumps(lattice_api(load_fabric(origin / "config")).to_json()))
    checkout = fresh_clone(root, origin)
    env = {**pulumi_env(checkout), **shared_backend(root)}
    use_fake_aws(env, state)
    deployed = Fabric("config", project_dir=checkout, env=env).up()
    assert {s.result for s in deployed.stacks} == {"succeeded"}, [(s.stack, s.result, s.message)
                                                                   for s in deployed.stacks]
    shutil.rmtree(checkout)

    commit_appended(origin, message, appended)
    checkout = fresh_clone(root, origin)
    text, result = pr_comment("config", base, project_dir=checkout, env=env)
    return {"text": text, "result": result, "clone": checkout, "env": env}


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The export of orders and its route in one account."""
    return replayed(tmp_path_factory.mktemp("lattice-pull-request"), lattice_program,
                    "export orders from cluster1 and route to it from cluster3",
                    {"config/cluster1/exports.yaml": ORDERS_EXPORT, "config/cluster3/routes.yaml": ORDERS_ROUTE})


def test_the_pull_request_previews_the_exporter_and_the_importer_on_the_engine(pull_request):
    result = pull_request["result"]
    assert [(s.stack, s.result) for s in result.stacks] == [("cluster1", "succeeded"), ("cluster3", "succeeded")], \
        [(s.stack, s.message) for s in result.stacks]


def test_the_exporter_previews_a_target_group_for_the_new_route(pull_request):
    groups = [name for kind, name in created(pull_request["result"].stack("cluster1"))
              if kind == "aws:vpclattice/targetGroup:TargetGroup"]
    assert len(groups) == 1 and "-orders-80-http-http1-orders-default-" in groups[0], groups


def test_the_importer_previews_the_new_route_against_the_exporter_as_planned(pull_request):
    cluster3 = pull_request["result"].stack("cluster3")
    assert {("aws:vpclattice/service:Service", "cluster3-lattice-httproute-default-orders"),
            ("aws:vpclattice/listenerRule:ListenerRule",
             "cluster3-lattice-httproute-default-orders-fabric-network-http-1")} <= set(created(cluster3))
    assert ("'cluster3' is previewed against what 'cluster1' will publish after this change (planned: previewed in "
            "the same run), the ARNs and ids of what they have not made yet (target groups, service networks and their "
            "shares, services) not known until they are deployed" in cluster3.warnings), cluster3.warnings


def test_the_importers_routes_to_what_the_exporter_made_already_preview_unchanged(pull_request):
    cluster3 = pull_request["result"].stack("cluster3")
    assert {op for op, count in cluster3.changes.items() if count} == {"create", "same"}, cluster3.changes


def test_a_preview_of_the_importer_alone_still_reads_the_exporters_deployed_outputs(pull_request):
    clone = PulumiProject(pull_request["clone"], pull_request["env"])
    result = clone.pulumi("preview", "--stack", "cluster3", check=False)
    assert result.returncode != 0
    assert ("stack 'cluster1' has not published a target group of export default/orders:80/HTTP for Lattice "
            "service 'orders-default' yet (it makes one per service forwarding to it): run `pulumi up` on "
            "'cluster1' first, or, if this change adds it there too, preview the whole fabric (`clusterfabric "
            "preview`), which reads 'cluster1' as planned") in result.stdout


def test_merged_and_deployed_the_new_route_forwards_to_the_target_group_the_exporter_made(pull_request):
    """Last: it deploys the change."""
    deployed = Fabric("config", project_dir=pull_request["clone"], env=pull_request["env"]).up()
    assert deployed.ok, [(s.stack, s.message) for s in deployed.stacks]
    [orders] = [e for e in deployed.stack("cluster1").outputs["lattice"]["exports"] if e["name"] == "orders"]
    clone = PulumiProject(pull_request["clone"], pull_request["env"])
    state = json.loads(clone.pulumi("stack", "export", "--stack", "cluster3").stdout)["deployment"]
    [rule] = [r for r in state["resources"] if r["urn"].endswith("::cluster3-lattice-httproute-default-orders-"
                                                                  "fabric-network-http-1")]
    assert rule["inputs"]["action"]["forward"]["targetGroups"] == [
        {"targetGroupIdentifier": orders["targetGroups"][0]["arn"], "weight": 1}]


# --- across accounts -------------------------------------------------------------------------------------------


NETWORK_AUTH = """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shop-network, namespace: shop}
spec:
  gatewayClassName: amazon-vpc-lattice
  listeners: [{name: http, protocol: HTTP, port: 80}]
---
apiVersion: application-networking.k8s.aws/v1alpha1
kind: IAMAuthPolicy
metadata: {name: shop-network-iam, namespace: shop}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: shop-network}
  policy: |
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "vpc-lattice-svcs:Invoke", "Resource": "*",
      "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]}}]}
"""


def accounts_program(program: Path) -> None:
    """The program with the three-account example as its fabric before the exporter's account joins: the network
    account and the consumer, its Gateway alone. The network's owner declares its Gateway too, for the
    IAMAuthPolicy the project's policy pack requires of a network (the example, planned offline, runs no pack)."""
    config = program / "config"
    shutil.rmtree(config)
    shutil.copytree(ACCOUNTS, config)
    keep_clusters(config, ("network", "consumer"))
    (config / "network" / "gateway.yaml").write_text(NETWORK_AUTH)
    (config / "consumer" / "checkout.yaml").unlink()
    point_at_fake_aws(program / "Pulumi.yaml")


def exporter_cluster() -> str:
    """The example's exporter as an entry appended to fabric.yaml's clusters (its last key, as keep_clusters
    writes it)."""
    [exporter] = [c for c in yaml.safe_load((ACCOUNTS / "fabric.yaml").read_text())["clusters"]
                  if c["name"] == "exporter"]
    return yaml.safe_dump({"clusters": [exporter]}, sort_keys=False).split("\n", 1)[1]


@pytest.fixture(scope="module")
def accounts_pull_request(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The exporter's account joining the deployed base with its export of checkout, and the consumer's route to
    it, in one commit: the exporter's stack does not exist yet."""
    return replayed(tmp_path_factory.mktemp("lattice-accounts-pull-request"), accounts_program,
                    "a cluster of the exporter's account exports checkout; the consumer routes to it",
                    {"config/fabric.yaml": exporter_cluster(),
                     "config/exporter/checkout.yaml": (ACCOUNTS / "exporter" / "checkout.yaml").read_text(),
                     "config/consumer/checkout.yaml": (ACCOUNTS / "consumer" / "checkout.yaml").read_text()})


def test_the_cross_account_pull_request_previews_the_owner_the_host_and_the_routes_cluster(accounts_pull_request):
    result = accounts_pull_request["result"]
    assert [(s.stack, s.result) for s in result.stacks] == [
        ("network", "succeeded"), ("exporter", "succeeded"), ("consumer", "succeeded")], \
        [(s.stack, s.message) for s in result.stacks]


def test_the_owner_previews_sharing_the_network_with_the_exporters_account_too(accounts_pull_request):
    network = accounts_pull_request["result"].stack("network")
    assert created(network) == [("aws:ram/principalAssociation:PrincipalAssociation",
                                 "network-lattice-shop-network-share-222222222222")], network.changes


def test_the_host_previews_the_routes_service_joined_to_the_network_as_the_owner_plans_it(accounts_pull_request):
    exporter = accounts_pull_request["result"].stack("exporter")
    assert {kind for kind, _ in created(exporter)} >= {
        "aws:ram/resourceShareAccepter:ResourceShareAccepter", "aws:vpclattice/targetGroup:TargetGroup",
        "aws:vpclattice/service:Service", "aws:vpclattice/listenerRule:ListenerRule",
        "aws:vpclattice/serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation"}, created(exporter)
    assert any("previewed against what 'network' will publish" in w for w in exporter.warnings), exporter.warnings


def test_the_routes_cluster_reads_the_host_and_the_owner_as_planned(accounts_pull_request):
    consumer = accounts_pull_request["result"].stack("consumer")
    assert ("'consumer' is previewed against what 'exporter' and 'network' will publish after this change (planned: "
            "previewed in the same run), the ARNs and ids of what they have not made yet (target groups, service "
            "networks and their shares, services) not known until they are deployed" in consumer.warnings), \
        consumer.warnings
    # The route's service, listener and rule are the exporter's: only the component of its ServiceImport here.
    assert created(consumer) == [("clusterfabric:lattice:ServiceImport", "consumer-lattice-shop-checkout")]


def test_merged_and_deployed_the_routes_cluster_publishes_the_dns_name_of_its_service_in_the_exporters_account(
        accounts_pull_request):
    """Last: it deploys the change."""
    deployed = Fabric("config", project_dir=accounts_pull_request["clone"], env=accounts_pull_request["env"]).up()
    assert deployed.ok, [(s.stack, s.message) for s in deployed.stacks]
    [hosted] = deployed.stack("exporter").outputs["lattice"]["hostedServices"]
    route = deployed.stack("consumer").outputs["lattice"]["routeServices"]["HTTPRoute/shop/checkout"]
    assert (route["accountId"], route["dnsName"]) == ("222222222222", hosted["dnsName"])
