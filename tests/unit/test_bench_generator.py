"""The benchmarks' fabric generator (bench/generate.py): what it writes is a valid fabric, for both dataplanes.

A specification of the generator, not a timing: the benchmarks measure fabrics
the product accepts, with the imports drawn as documented.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.generate import Shape, generate, object_count, source_stacks, sources
from clusterfabric.components.model import check_fabric, load_fabric
from clusterfabric.components.model.graph import dependencies


@pytest.mark.parametrize("dataplane", ["clusterlink", "lattice"])
def test_generated_fabric_passes_validate(tmp_path: Path, dataplane: str):
    shape = Shape(clusters=4, exports=5, imports=3, dataplane=dataplane)
    fabric = load_fabric(generate(tmp_path / "fabric", shape))
    assert check_fabric(fabric) == ([], [])
    assert sum(len(m.objects) for m in fabric.manifests.values()) == object_count(shape)


def test_clusterlink_imports_spread_over_every_other_cluster():
    shape = Shape(clusters=4, exports=5, imports=6, dataplane="clusterlink")
    assert sources(shape, 0) == [("c001", 0), ("c002", 0), ("c003", 0), ("c001", 1), ("c002", 1), ("c003", 1)]


def test_lattice_imports_come_from_earlier_clusters_only(tmp_path: Path):
    shape = Shape(clusters=4, exports=2, imports=3, dataplane="lattice")
    assert [source_stacks(shape, i) for i in range(4)] == [set(), {"c000"}, {"c000", "c001"}, {"c000", "c001", "c002"}]
    graph = dependencies(load_fabric(generate(tmp_path / "fabric", shape)))
    assert graph.hard["c003"] == {"c000", "c001", "c002"}  # the Gateway's owner, c001, among them


def test_too_many_imports_are_refused():
    with pytest.raises(ValueError):
        Shape(clusters=2, exports=1, imports=2, dataplane="clusterlink")
