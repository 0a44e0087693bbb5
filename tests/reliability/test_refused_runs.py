"""A run the input refuses changes nothing: no stack config rewritten, no checkpoint, no history entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clusterfabric import Fabric
from tests.pulumi_project import copy_program, project

pytestmark = pytest.mark.slow  # the real engine, API servers or ClusterLink's binaries

RATINGS = Path(__file__).resolve().parents[1] / "fixtures" / "ratings"
MISSING_EXPORT = (RATINGS / "import.yaml").read_text()  # of an export west does not have
RATINGS_EXPORT = (RATINGS / "export.yaml").read_text()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    proj = project(copy_program(tmp_path_factory.mktemp("refused") / "project"))
    # The ClusterLink clusters alone: a Lattice stack has no engine run here to refuse.
    fabric = Fabric("config", project_dir=proj.directory, env=proj.env)
    result = fabric.up(["east", "west", "central"])
    assert result.ok, [(s.stack, s.message) for s in result.stacks]
    return {"project": proj, "backend": Path(proj.env["PULUMI_BACKEND_URL"].removeprefix("file://"))}


def untouched(deployed: dict, stack: str) -> dict[str, bytes | int]:
    """The stack's config file, its checkpoint and the number of its history entries."""
    proj, backend = deployed["project"], deployed["backend"]
    return {"config": (proj.directory / "stacks" / f"Pulumi.{stack}.yaml").read_bytes(),
            "checkpoint": (backend / ".pulumi" / "stacks" / "clusterfabric" / f"{stack}.json").read_bytes(),
            "history": len(list((backend / ".pulumi" / "history" / "clusterfabric" / stack).glob("*.history.json")))}


def fabric_copy(deployed: dict, tmp_path: Path) -> Path:
    copy = tmp_path / "fabric"
    shutil.copytree(deployed["project"].directory / "config", copy)
    return copy


def test_a_forced_up_of_an_import_of_a_missing_export_is_refused_before_the_stack_is_touched(deployed, tmp_path):
    bad = fabric_copy(deployed, tmp_path)
    with (bad / "central" / "sharing.yaml").open("a") as f:
        f.write(MISSING_EXPORT)
    before = untouched(deployed, "central")
    result = Fabric(bad, project_dir=deployed["project"].directory, env=deployed["project"].env,
                    force=True).up(["central"])
    central = result.stack("central")
    assert central.result == "refused"
    assert (f"{bad}/central/sharing.yaml: Import/bookinfo/ratings: spec.sources[0].exportName: peer 'west' exports "
            "no bookinfo/ratings") in central.message
    assert untouched(deployed, "central") == before


def test_an_up_of_an_import_its_peer_has_not_deployed_yet_is_refused_before_the_stack_is_touched(deployed, tmp_path):
    ahead = fabric_copy(deployed, tmp_path)
    with (ahead / "west" / "sharing.yaml").open("a") as f:
        f.write(RATINGS_EXPORT)
    with (ahead / "central" / "sharing.yaml").open("a") as f:
        f.write(MISSING_EXPORT)
    before = untouched(deployed, "central")
    result = Fabric(ahead, project_dir=deployed["project"].directory, env=deployed["project"].env).up(["central"])
    central = result.stack("central")
    assert central.result == "refused"
    assert "peer 'west' exports no bookinfo/ratings (its exports: bookinfo/details, bookinfo/reviews)" in central.message
    assert "checked against what 'east' and 'west' published at their last `up`" in central.message
    assert untouched(deployed, "central") == before


def test_an_up_removing_everything_a_stack_shares_is_refused_before_the_stack_is_touched(deployed, tmp_path):
    emptied = fabric_copy(deployed, tmp_path)
    for manifest in (emptied / "central").glob("*.yaml"):
        manifest.unlink()
    before = untouched(deployed, "central")
    result = Fabric(emptied, project_dir=deployed["project"].directory, env=deployed["project"].env).up(["central"])
    central = result.stack("central")
    assert central.result == "refused"
    assert central.message.startswith("refusing to remove everything 'central' shares (import bookinfo/details, "
                                      "import bookinfo/reviews, import default/iperf3-server")
    assert untouched(deployed, "central") == before
