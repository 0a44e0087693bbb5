"""The component package's Export and Import (components/plugin), used from Python under mocks, and its schema."""

from __future__ import annotations

import json

import pytest

from components.model.errors import InputError
from components.plugin.clusterlink import MODULE, PACKAGE, Export, Import
from components.plugin.provider import Package
from tests.mocks import declare


def test_export_declares_its_cr_with_only_the_fields_given():
    declared = declare(lambda: Export("checkout", {"name": "checkout", "namespace": "shop", "port": 8080}))
    assert [r["type"] for r in declared.resources] == ["clusterfabric:clusterlink:Export",
                                                       "kubernetes:clusterlink.net/v1alpha1:Export"]
    cr = declared.one("v1alpha1:Export", "checkout")
    assert cr["inputs"]["metadata"] == {"name": "checkout", "namespace": "shop"}
    assert cr["inputs"]["spec"] == {"port": 8080}


def test_import_writes_lb_scheme_explicitly_and_sources_in_the_crs_field_names():
    declared = declare(lambda: Import("reviews", {
        "name": "reviews", "namespace": "shop", "port": 9080,
        "sources": [{"export_name": "reviews", "export_namespace": "books", "peer": "east"}]}))
    assert declared.one("v1alpha1:Import", "reviews")["inputs"]["spec"] == {
        "port": 9080, "lbScheme": "random",
        "sources": [{"exportName": "reviews", "exportNamespace": "books", "peer": "east"}]}


def test_a_refused_arg_raises_validates_message():
    with pytest.raises(InputError) as refused:
        Export("checkout", {"name": "checkout", "namespace": "shop", "port": 70000})
    assert str(refused.value) == ("clusterfabric:clusterlink:Export checkout: Export/shop/checkout: spec.port: "
                                  "Input should be less than or equal to 65535")


def test_package_schema_puts_the_components_and_their_types_in_the_clusterlink_module():
    schema = json.loads(Package([Export, Import], PACKAGE, MODULE).schema)
    assert sorted(schema["resources"]) == ["clusterfabric:clusterlink:Export", "clusterfabric:clusterlink:Import"]
    assert sorted(schema["types"]) == ["clusterfabric:clusterlink:ImportSource"]
    sources = schema["resources"]["clusterfabric:clusterlink:Import"]["inputProperties"]["sources"]
    assert sources["items"]["$ref"] == "#/types/clusterfabric:clusterlink:ImportSource"
