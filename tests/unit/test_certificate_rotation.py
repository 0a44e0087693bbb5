"""The rotation of the fabric's certificates as a planned change: its states (components/model/rotation.py) and the
`up`s `rotate-certificates` runs from what the stacks recorded (clusterfabric/runner/rotation.py), an interrupted
rotation resumed. The engine test with ClusterLink's binaries is tests/engine/test_certificate_rotation.py."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from clusterfabric.runner.rotation import RotationError, rotate
from clusterfabric.components.contract import ROTATION_OUTPUT
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.rotation import ROTATION_ENV, RotationState, rollover_steps

STEADY = RotationState()
TRUST, REISSUE, DROP = RotationState(1, "trust"), RotationState(1, "reissue"), RotationState(1, "drop")


def test_in_the_trust_phase_both_cas_are_trusted_and_the_old_one_still_signs():
    assert (TRUST.trusted, TRUST.signer) == ((0, 1), 0)


def test_in_the_reissue_phase_both_cas_are_trusted_and_the_new_one_signs():
    assert (REISSUE.trusted, REISSUE.signer) == ((0, 1), 1)


def test_after_the_drop_phase_only_the_new_ca_is_trusted():
    assert (DROP.trusted, DROP.signer) == ((1,), 1)


def test_the_phases_follow_each_other_and_a_new_rollover_follows_a_drop():
    assert [STEADY.next_phase(), TRUST.next_phase(), REISSUE.next_phase(), DROP.next_phase()] == [
        TRUST, REISSUE, DROP, RotationState(2, "trust")]


def test_a_phase_may_run_again_or_be_followed_by_the_next_but_not_skipped():
    assert TRUST.follows(TRUST) and REISSUE.follows(TRUST)
    assert not DROP.follows(TRUST)
    assert not STEADY.follows(TRUST)


def test_a_renewal_follows_by_one_for_one_peer():
    assert STEADY.renewed("east").follows(STEADY)
    assert not STEADY.renewed("east").renewed("east").follows(STEADY)
    assert not STEADY.renewed("east").renewed("west").follows(STEADY)


def test_the_state_is_published_and_read_back_the_same():
    state = REISSUE.renewed("west")
    assert RotationState.parse(json.loads(json.dumps(state.output()))) == state


def test_a_stack_of_an_earlier_release_published_no_state_and_was_never_rotated():
    assert RotationState.parse(None) == STEADY


def test_a_rollover_runs_all_three_phases():
    assert rollover_steps(STEADY, behind=[]) == [TRUST, REISSUE, DROP]


def test_a_rollover_interrupted_in_a_phase_runs_that_phase_again_then_the_rest():
    assert rollover_steps(TRUST, behind=["central"]) == [TRUST, REISSUE, DROP]


def test_a_rollover_interrupted_between_phases_goes_on_with_the_next():
    assert rollover_steps(TRUST, behind=[]) == [REISSUE, DROP]


def test_a_rollover_interrupted_in_its_drop_phase_finishes_it_and_stops():
    assert rollover_steps(DROP, behind=["central"]) == [DROP]


def test_after_a_finished_rollover_the_next_one_starts():
    assert rollover_steps(DROP, behind=[]) == [RotationState(2, "trust"), RotationState(2, "reissue"),
                                               RotationState(2, "drop")]


# --- the runner, over a stand-in fabric -----------------------------------------------------------------------


class StandIn:
    """The example fabric's ClusterLink stacks with the rotation states they published; each `up` applies the
    state asked of the CA owner (east) to the stacks it runs, or fails at `fail_at`."""

    def __init__(self, applied: dict[str, RotationState], fail_at: str | None = None):
        self.applied, self.fail_at, self.ups = dict(applied), fail_at, []

    def load(self):
        return load_fabric(Path("config"))

    def deployed_outputs(self, stack: str):
        return {ROTATION_OUTPUT: self.applied[stack].output()} if stack in self.applied else None

    def up(self, stacks, stack_env):
        asked = RotationState.parse(json.loads(stack_env["east"][ROTATION_ENV]))
        self.ups.append((asked, list(stacks)))
        results = []
        for stack in stacks:
            ok = stack != self.fail_at
            if ok:
                self.applied[stack] = asked
            results.append(SimpleNamespace(stack=stack, ok=ok))
        return SimpleNamespace(ok=all(r.ok for r in results), stacks=results)


def rotated(fabric: StandIn, **asked) -> list[str]:
    done = rotate(fabric, progress=lambda line: None, sleep=lambda seconds: None, **asked)  # type: ignore[arg-type]
    return [p.name for p in done.phases]


EVERYWHERE = {"east": STEADY, "west": STEADY, "central": STEADY}


def test_a_rollover_is_one_up_of_every_clusterlink_stack_per_phase_in_order():
    fabric = StandIn(EVERYWHERE)
    rotated(fabric, fabric_ca=True)
    assert fabric.ups == [(state, ["east", "west", "central"]) for state in (TRUST, REISSUE, DROP)]


def test_a_failed_phase_stops_the_rollover_and_running_it_again_resumes_there():
    fabric = StandIn(EVERYWHERE, fail_at="central")
    assert rotated(fabric, fabric_ca=True) == ["trust (fabric CA generation 1)"]
    fabric.fail_at = None
    assert rotated(fabric, fabric_ca=True) == ["trust (fabric CA generation 1)", "reissue (fabric CA generation 1)",
                                               "drop (fabric CA generation 1)"]
    assert fabric.applied == {"east": DROP, "west": DROP, "central": DROP}


def test_a_renewal_is_one_up_of_the_ca_owner_and_the_peer():
    fabric = StandIn(EVERYWHERE)
    assert rotated(fabric, peer="central") == ["renew central"]
    assert fabric.ups == [(STEADY.renewed("central"), ["east", "central"])]


def test_a_renewal_the_peer_did_not_apply_is_finished_not_made_again():
    renewed = STEADY.renewed("central")
    fabric = StandIn({**EVERYWHERE, "east": renewed})
    rotated(fabric, peer="central")
    assert fabric.ups == [(renewed, ["east", "central"])]


def test_a_peer_not_deployed_cannot_be_renewed():
    with pytest.raises(RotationError, match="peer 'north' is no deployed ClusterLink cluster of the fabric "
                                            r"\(deployed: central, east, west\)"):
        rotated(StandIn(EVERYWHERE), peer="north")


def test_nothing_is_rotated_before_the_ca_owner_is_deployed():
    with pytest.raises(RotationError, match="stack 'east', which issues the fabric's certificates, is not deployed"):
        rotated(StandIn({"central": STEADY}), fabric_ca=True)
