"""The model accepts the example fabric and names file, object and field for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterfabric.runner.cli import validate
from clusterfabric.toolchain import PROJECT_DIR
from clusterfabric.components.model import InputError, load_cluster_manifests, load_fabric_spec

EXAMPLE = PROJECT_DIR / "config"


def fabric(tmp_path: Path, manifests: str, fabric_yaml: str = "clusters:\n  - {name: c1, dataplane: clusterlink}\n") -> Path:
    (tmp_path / "fabric.yaml").write_text(fabric_yaml)
    (tmp_path / "c1").mkdir()
    (tmp_path / "c1" / "objects.yaml").write_text(manifests)
    return tmp_path


def problems(fabric_dir: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_cluster_manifests(fabric_dir, "c1")
    return [str(p) for p in err.value.problems]


SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: PORT}]
"""


def test_example_fabric_loads_its_clusters_and_services():
    spec = load_fabric_spec(EXAMPLE)
    assert [(c.name, c.dataplane) for c in spec.clusters] == [
        ("east", "clusterlink"), ("west", "clusterlink"), ("central", "clusterlink"),
        ("cluster1", "lattice"), ("cluster2", "lattice"), ("cluster3", "lattice"),
    ]
    services = load_cluster_manifests(EXAMPLE, "east").services
    assert [(s.namespace, s.name, s.spec.ports[0].port) for s in services] == [
        ("default", "iperf3-server", 5000), ("bookinfo", "reviews", 9080)
    ]


def test_example_fabric_is_valid_without_warnings():
    assert validate(EXAMPLE) == ([], [])


def test_out_of_range_port_names_file_object_and_field(tmp_path: Path):
    d = fabric(tmp_path, SERVICE.replace("PORT", "70000"))
    [line] = problems(d)
    assert line.startswith(f"{d / 'c1' / 'objects.yaml'}: Service/shop/web: spec.ports[0].port: ")
    assert "less than or equal to 65535" in line


def test_missing_required_field_is_named(tmp_path: Path):
    d = fabric(tmp_path, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {}\n")
    assert problems(d) == [f"{d / 'c1' / 'objects.yaml'}: Service/default/web: spec.ports: required field is missing"]


def test_service_name_must_be_a_dns1035_label(tmp_path: Path):
    d = fabric(tmp_path, SERVICE.replace("PORT", "80").replace("name: web", "name: 1web"))
    [line] = problems(d)
    assert ": Service/shop/1web: metadata.name: '1web' is not a DNS-1035 label" in line


def test_unknown_kind_lists_the_known_ones(tmp_path: Path):
    d = fabric(tmp_path, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    [line] = problems(d)
    assert ": Widget/default/w: kind: unknown apiVersion/kind example.com/v1/Widget; known: " in line
    assert "Export (clusterlink.net)" in line and "Service (v1)" in line and "HTTPRoute (gateway.networking.k8s.io)" in line


def test_yaml_syntax_error_gives_the_line(tmp_path: Path):
    d = fabric(tmp_path, "apiVersion: v1\nkind: [Service\n")
    [line] = problems(d)
    assert line.startswith(f"{d / 'c1' / 'objects.yaml'}: -: -: YAML syntax error at line 3")


def test_same_object_twice_is_refused(tmp_path: Path):
    d = fabric(tmp_path, SERVICE.replace("PORT", "80") + "---\n" + SERVICE.replace("PORT", "81"))
    [line] = problems(d)
    assert ": Service/shop/web: metadata.name: defined twice (first in " in line


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path):
    d = fabric(tmp_path, SERVICE.replace("PORT", "0") + "---\n" + SERVICE.replace("PORT", "x").replace("web", "api"))
    assert [line.split(": ")[1:3] for line in problems(d)] == [
        ["Service/shop/web", "spec.ports[0].port"],
        ["Service/shop/api", "spec.ports[0].port"],
    ]


def test_cluster_listed_twice_is_refused(tmp_path: Path):
    d = fabric(tmp_path, "", "clusters:\n  - {name: c1, dataplane: clusterlink}\n  - {name: c1, dataplane: clusterlink}\n")
    with pytest.raises(InputError) as err:
        load_fabric_spec(d)
    assert [str(p) for p in err.value.problems] == [
        f"{d / 'fabric.yaml'}: Fabric: -: cluster 'c1' is listed twice; each cluster is one stack"
    ]


def test_unknown_dataplane_says_what_is_allowed(tmp_path: Path):
    d = fabric(tmp_path, "", "clusters:\n  - {name: c1, dataplane: istio}\n")
    with pytest.raises(InputError) as err:
        load_fabric_spec(d)
    [problem] = err.value.problems
    assert (problem.field, problem.message) == ("clusters[0].dataplane", "Input should be 'clusterlink' or 'lattice'")


@pytest.mark.parametrize("registry", ["", "ghcr.io/clusterlink-net", "localhost:5000/cl", "registry.example.com"])
def test_an_image_registry_may_be_empty_for_bare_image_names_or_a_registry_and_path(registry: str):
    from clusterfabric.components.model.clusterlink import ClusterLinkSettings

    assert ClusterLinkSettings(registry=registry).registry == registry
