"""What crosses the layers reads back as it was written (components/contract.py), and the model's answer to
"who imports what a stack would stop exporting" (components/model/removal.py)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pulumi.output import Unknown

from clusterfabric.offline.plan import run_stack
from clusterfabric.components.contract import (PLANNED_PEERS_ENV, ClusterTarget, config_key, lattice_exports, lattice_exports_entries,
                                 lattice_output, planned_lattice_output, target_config, target_from_config)
from clusterfabric.components.model import ExportInfo, InputError, load_fabric
from clusterfabric.components.model.peers import clusterlink_exports, clusterlink_output, peer_from_output
from clusterfabric.components.model.removal import importers, removed_exports

EXAMPLE = Path(__file__).resolve().parents[2] / "config"


def published_lattice_output(fabric, cluster: str) -> dict:
    """The `lattice` output `cluster`'s stack writes, each target group's ARN made from its name."""
    spec = fabric.spec.cluster(cluster).lattice
    groups = [(tg, f"arn:tg/{tg.name}") for tg in fabric.lattice.target_groups
              if tg.cluster == cluster and tg.source_kind == "ServiceExport"]
    return lattice_output(cluster, spec.accountId, spec.region, spec.vpcId, lattice_exports_entries(groups), {})


def test_a_lattice_output_reads_back_as_the_exports_the_manifests_declare_with_their_target_groups():
    fabric = load_fabric(EXAMPLE)
    exports = lattice_exports("cluster1", published_lattice_output(fabric, "cluster1"))
    assert {replace(e, target_groups=()) for e in exports} == {e for e in fabric.lattice_exports()
                                                               if e.cluster == "cluster1"}
    checkout = next(e for e in exports if e.name == "checkout")
    [group] = [tg for tg in fabric.lattice.target_groups
               if tg.cluster == "cluster1" and tg.source_name == "checkout" and tg.source_kind == "ServiceExport"]
    assert checkout.target_group_for(group.consumer) == f"arn:tg/{group.name}"


def test_a_planned_lattice_stack_publishes_the_target_groups_and_networks_the_fabric_plans_their_ids_unknown():
    fabric = load_fabric(EXAMPLE)
    output = planned_lattice_output(fabric.spec.cluster("cluster1"), fabric.lattice, None, "(unknown)")
    planned = {(e.key, consumer, arn) for e in lattice_exports("cluster1", output) for consumer, arn in e.target_groups}
    assert planned == {(tg.export, tg.consumer, "(unknown)") for tg in fabric.lattice.target_groups
                       if tg.cluster == "cluster1" and tg.export is not None}
    assert output["serviceNetworks"] == {"fabric-network": {"id": "(unknown)", "arn": "(unknown)"}}


def test_a_planned_lattice_stack_keeps_the_arns_and_ids_it_published_for_what_it_has_made_already():
    fabric = load_fabric(EXAMPLE)
    published = {**published_lattice_output(fabric, "cluster1"),
                 "serviceNetworks": {"fabric-network": {"id": "sn-1", "arn": "arn:sn-1"}}}
    output = planned_lattice_output(fabric.spec.cluster("cluster1"), fabric.lattice, published, "(unknown)")
    assert output == published


def importer_preview(monkeypatch: pytest.MonkeyPatch, planned: str) -> dict:
    """cluster3's preview under mocks, cluster1 and cluster2 not deployed, with these peers planned in the run."""
    monkeypatch.setenv(PLANNED_PEERS_ENV, planned)
    return run_stack({"stack": "cluster3", "outputs": {}, "account": "111122223333", "region": "us-west-2",
                      "fabric": str(EXAMPLE), "root": str(EXAMPLE.parent)})


def test_an_importer_previewed_after_its_exporters_forwards_to_their_planned_target_groups_arns_unknown(monkeypatch):
    preview = importer_preview(monkeypatch, "cluster1,cluster2")
    assert preview["errors"] == []
    [legacy] = [r["inputs"] for r in preview["resources"] if r["name"].endswith("checkout-fabric-network-http-1")]
    [target] = legacy["action"]["forward"]["targetGroups"]
    assert isinstance(target["targetGroupIdentifier"], Unknown)
    assert preview["warnings"] == [
        "'cluster3' is previewed against what 'cluster1' and 'cluster2' will publish after this change (planned: "
        "previewed in the same run), the ARNs and ids of what they have not made yet (target groups, service networks "
        "and their shares, services) not known until they are deployed"]


def test_an_importer_of_exporters_neither_deployed_nor_planned_is_refused_naming_what_to_deploy_first(monkeypatch):
    preview = importer_preview(monkeypatch, "")
    assert preview["errors"] == ["stack 'cluster1' has published no Lattice outputs, so 'cluster3' cannot use what it "
                                 "shares: run `pulumi up` on 'cluster1' first, or, if this change adds it there too, "
                                 "preview the whole fabric (`clusterfabric preview`), which reads 'cluster1' as planned"]


def without_none(value):
    """`value` as the engine stores a stack output: dictionary entries holding None dropped."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value


def test_the_target_group_of_an_export_nobody_consumes_reads_back_though_the_engine_drops_its_none():
    fabric = load_fabric(EXAMPLE)
    [group] = [tg for tg in fabric.lattice.target_groups if tg.cluster == "cluster1" and tg.source_name == "payments"]
    unconsumed = replace(group, consumer=None)
    spec = fabric.spec.cluster("cluster1").lattice
    output = lattice_output("cluster1", spec.accountId, spec.region, spec.vpcId,
                            lattice_exports_entries([(unconsumed, "arn:tg/payments")]), {})
    [payments] = lattice_exports("cluster1", without_none(output))
    assert payments.target_groups == ((None, "arn:tg/payments"),)


def test_a_stack_not_published_yet_has_no_exports():
    assert lattice_exports("cluster1", None) == []
    assert clusterlink_exports(None) == ()


def test_the_fabric_layer_reads_peers_without_the_program():
    loaded = subprocess.run([sys.executable, "-c", "import sys, clusterfabric.runner.fabric; "
                             "print(sorted(m for m in ('clusterfabric.components.stack', 'pulumi_kubernetes') if m in sys.modules))"],
                            capture_output=True, text=True, cwd=EXAMPLE.parent, check=True).stdout
    assert loaded.strip() == "[]"


def test_a_peers_clusterlink_output_reads_back_as_the_peer_its_manifests_describe():
    fabric = load_fabric(EXAMPLE)
    east = fabric.catalog()["east"]
    output = clusterlink_output(east, fabric.peer_access("east").policies, "clusterlink-system")
    assert output["gateways"] == [{"host": "clusterlink.east.example.com", "port": 443}]  # as every release wrote it
    carried = {**output, "gateways": [{**g, "port": float(g["port"])} for g in output["gateways"]]}  # as Pulumi reads it
    peer, access = peer_from_output(carried)
    assert peer == east
    assert access == fabric.peer_access("east")


def test_a_gateway_a_peer_publishes_is_validated_where_an_importer_reads_it():
    with pytest.raises(InputError) as refused:
        peer_from_output({"peer": "east", "gateways": [{"host": "clusterlink.east.example.com", "port": 0}]})
    assert [str(p) for p in refused.value.problems] == [
        "stack east: gateways[0]: port: Input should be greater than or equal to 1"]


def test_a_cluster_target_reads_back_from_the_stack_config_the_fabric_layer_sets():
    target = ClusterTarget(Path("/clusters/east/kubeconfig"), controllers=False)
    config = {config_key(key): value for key, value in target_config(target).items()}
    assert target_from_config(config) == target


def test_a_stack_without_a_target_renders():
    assert target_config(None) == {}
    assert target_from_config({config_key("fabric"): "config"}) is None


def test_a_published_lattice_export_the_manifests_still_declare_is_not_removed():
    fabric = load_fabric(EXAMPLE)
    published = lattice_exports("cluster2", published_lattice_output(fabric, "cluster2"))
    assert removed_exports(fabric, "cluster2", published) == []


def test_removing_a_lattice_export_names_the_routes_that_import_it():
    fabric = load_fabric(EXAMPLE)
    inventory = next(e for e in fabric.lattice_exports() if e.cluster == "cluster2" and e.name == "inventory")
    assert set(importers(fabric, "cluster2", [inventory])) == {"export default/inventory:50051/GRPC"}
    assert set(importers(fabric, "cluster2", [inventory])["export default/inventory:50051/GRPC"]) == {
        "cluster3 (config/cluster3/routes.yaml: GRPCRoute/default/inventory)"}


def test_a_clusterlink_export_no_manifest_declares_is_removed():
    fabric = load_fabric(EXAMPLE)
    published = (*fabric.catalog()["west"].exports, ExportInfo("gone", "bookinfo", 9080))
    assert removed_exports(fabric, "west", published) == [("bookinfo", "gone")]
