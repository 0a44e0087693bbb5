"""Every value the example fabric sends to a vpclattice resource is within the Lattice API's constraints."""

from __future__ import annotations

import re

import pytest

from clusterfabric.components.model import limits

LATTICE_STACKS = ["cluster1", "cluster2", "cluster3"]
NAMED = {"ServiceNetwork": "service network", "Service": "service", "TargetGroup": "target group",
         "Listener": "listener", "ListenerRule": "rule"}


@pytest.fixture(scope="module")
def lattice_resources(example_plan: dict) -> list[dict]:
    found = [r for stack in LATTICE_STACKS for r in example_plan[stack]["resources"]
             if r["type"].startswith("aws:vpclattice/")]
    assert len(found) >= 25
    return found


def kind(resource: dict) -> str:
    return resource["type"].rsplit(":", 1)[1]


def keys(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}", k
            yield from keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from keys(v, f"{path}[{i}]")


def test_every_name_is_a_valid_lattice_name(lattice_resources):
    problems = [limits.name_problem(NAMED[kind(r)], r["inputs"]["name"]) for r in lattice_resources if kind(r) in NAMED]
    assert [p for p in problems if p] == []


def test_every_port_is_in_range(lattice_resources):
    ports = [r["inputs"]["port"] for r in lattice_resources if kind(r) == "Listener"]
    ports += [r["inputs"]["config"]["port"] for r in lattice_resources if kind(r) == "TargetGroup"]
    ports += [r["inputs"]["target"]["port"] for r in lattice_resources if kind(r) == "TargetGroupAttachment"]
    assert ports and all(1 <= p <= 65535 for p in ports)


def test_every_rule_priority_is_1_to_100_and_unique_per_listener(lattice_resources):
    by_listener: dict[str, list[int]] = {}
    for r in (r for r in lattice_resources if kind(r) == "ListenerRule"):
        by_listener.setdefault(r["inputs"]["listenerIdentifier"], []).append(r["inputs"]["priority"])
    assert by_listener
    for priorities in by_listener.values():
        assert all(1 <= p <= 100 for p in priorities) and len(set(priorities)) == len(priorities)


def forwards(lattice_resources):
    for r in lattice_resources:
        if kind(r) == "ListenerRule":
            yield r["inputs"]["action"]["forward"]["targetGroups"]
        elif kind(r) == "Listener" and "forwards" in r["inputs"]["defaultAction"]:
            yield from (f["targetGroups"] for f in r["inputs"]["defaultAction"]["forwards"])


def test_every_forward_has_1_to_10_target_groups_weights_0_to_999_and_a_positive_total(lattice_resources):
    found = list(forwards(lattice_resources))
    assert found
    for groups in found:
        assert 1 <= len(groups) <= 10
        assert all(0 <= g["weight"] <= 999 for g in groups) and sum(g["weight"] for g in groups) > 0
        assert all(re.match(r"^arn:aws:vpc-lattice:", g["targetGroupIdentifier"]) for g in groups)


def test_every_match_is_within_the_api_limits(lattice_resources):
    for r in (r for r in lattice_resources if kind(r) == "ListenerRule"):
        match = r["inputs"]["match"]["httpMatch"]
        assert len(match.get("headerMatches", [])) <= 5
        for value in [*match["pathMatch"]["match"].values(), *(h["match"]["exact"] for h in match.get("headerMatches", []))]:
            assert 1 <= len(value) <= 200
        assert next(iter(match["pathMatch"]["match"].values())).startswith("/")


def test_every_enum_is_one_the_api_knows(lattice_resources):
    for r in lattice_resources:
        inputs = r["inputs"]
        if kind(r) == "Listener":
            assert inputs["protocol"] in limits.PROTOCOLS["listener"]
        if kind(r) == "TargetGroup":
            assert inputs["type"] in limits.TARGET_GROUP_TYPES
            assert inputs["config"]["protocol"] in limits.PROTOCOLS["target group"]
            assert inputs["config"].get("protocolVersion", "HTTP1") in limits.PROTOCOL_VERSIONS
        if kind(r) in ("Service", "ServiceNetwork"):
            assert inputs["authType"] in limits.AUTH_TYPES


def test_every_input_field_is_one_the_provider_knows(lattice_resources):
    # The SDK turns known field names to camelCase; a snake_case key would be sent as is and ignored.
    unknown = [(r["name"], path) for r in lattice_resources for path, key in keys(r["inputs"])
               if "_" in key and not path.startswith(".tags")]
    assert unknown == []
