"""An Import's targetPort, when the program chooses it: stable, distinct, in 1024-49151."""

from __future__ import annotations

from clusterfabric.components.model.clusterlink import Import
from clusterfabric.components.ports import TARGET_PORT_RANGE, assign_target_ports
from clusterfabric.components.ports import preferred_port as hashed_port


def preferred_port(namespace: str, name: str) -> int:
    return hashed_port(f"{namespace}/{name}", TARGET_PORT_RANGE)


def imp(name: str, namespace: str = "shop", target_port: int | None = None) -> Import:
    spec = {"port": 80, "sources": [{"peer": "east", "exportName": name, "exportNamespace": namespace}]}
    if target_port:
        spec["targetPort"] = target_port
    return Import.model_validate({"apiVersion": "clusterlink.net/v1alpha1", "kind": "Import",
                                  "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def test_chosen_port_is_a_stable_hash_of_namespace_and_name():
    assert assign_target_ports([imp("cart")]) == {("shop", "cart"): preferred_port("shop", "cart")}
    assert preferred_port("shop", "cart") == preferred_port("shop", "cart")
    assert preferred_port("shop", "cart") != preferred_port("other", "cart")


def test_chosen_ports_stay_in_the_registered_range():
    ports = assign_target_ports([imp(f"svc-{i}") for i in range(500)]).values()
    assert min(ports) >= 1024 and max(ports) <= 49151


def test_chosen_ports_are_distinct_in_the_cluster():
    ports = list(assign_target_ports([imp(f"svc-{i}") for i in range(2000)]).values())
    assert len(set(ports)) == len(ports)


def test_an_explicit_port_is_kept_and_a_chosen_one_moves_past_it():
    wanted = preferred_port("shop", "cart")
    ports = assign_target_ports([imp("cart"), imp("pinned", target_port=wanted)])
    assert ports[("shop", "pinned")] == wanted
    assert ports[("shop", "cart")] == wanted + 1


def test_order_of_declaration_does_not_change_the_choice():
    imports = [imp(f"svc-{i}") for i in range(50)]
    assert assign_target_ports(imports) == assign_target_ports(list(reversed(imports)))
