"""The warnings before a deployed certificate expires: what `preview`, the PR comment and `validate --deployed`
say, from the dates the stacks publish."""

from __future__ import annotations

import datetime
from pathlib import Path

from clusterfabric.gitops.comment import render
from clusterfabric.runner.cli import table
from clusterfabric.runner.results import FabricResult, StackResult
from clusterfabric.components.clusterlink.certificates import issue, not_after
from clusterfabric.components.model import load_fabric
from clusterfabric.components.model.certificates import expiring

BY_HAND = "replace the cluster's own certificates by hand (docs/clusterlink-platform.md, \"Certificates over time\")"
NOW = datetime.datetime(2030, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
PUBLISHED = {"fabric CA": "2036-05-30T12:00:00+00:00", "peer central": "2030-06-13T12:00:00+00:00",
             "cl-dataplane": "2030-05-31T12:00:00+00:00"}


def test_a_certificate_publishes_its_notafter_as_iso_8601_in_utc():
    published = datetime.datetime.fromisoformat(not_after(issue("east", 10, False, None, None)["cert_pem"]))
    assert published.utcoffset() == datetime.timedelta(0)
    assert (published - datetime.datetime.now(datetime.timezone.utc)).days == 9


def test_the_certificates_within_the_window_are_found_soonest_first_and_the_rest_not():
    found = expiring("east", PUBLISHED, 30, NOW)
    assert [(e.certificate, e.days_left, e.expired) for e in found] == [("cl-dataplane", -1, True),
                                                                        ("peer central", 12, False)]


def test_what_is_no_certificate_an_offline_plans_placeholder_is_passed_over():
    assert expiring("east", {"cl-ca": None}, 30, NOW) == []


def test_each_finding_names_the_certificate_its_stack_its_date_and_how_it_is_replaced():
    expired, soon = expiring("east", PUBLISHED, 30, NOW)
    assert str(soon) == ("east: certificate 'peer central' expires on 2030-06-13 12:00 UTC (in 12 days): "
                         "`clusterfabric rotate-certificates --peer central`")
    assert str(expired) == ("east: certificate 'cl-dataplane' expired on 2030-05-31 12:00 UTC: " + BY_HAND)


def test_the_fabric_ca_is_renewed_by_rolling_it_over():
    [ca] = expiring("east", {"fabric CA 2": "2030-06-02T12:00:00+00:00"}, 30, NOW)
    assert str(ca).endswith("(in 1 day): `clusterfabric rotate-certificates --fabric-ca`")


def test_an_expired_certificate_fails_a_preview_that_otherwise_succeeded():
    stacks = [StackResult("east", "preview", "succeeded")]
    assert FabricResult("preview", stacks, expiring=expiring("east", PUBLISHED, 0, NOW)).ok is False
    assert FabricResult("preview", stacks, expiring=expiring("east", PUBLISHED, 30, NOW)[1:]).ok is True


def test_the_preview_table_says_each_as_a_warning_or_an_error():
    result = FabricResult("preview", [StackResult("east", "preview", "succeeded")],
                          expiring=expiring("east", PUBLISHED, 30, NOW))
    assert table(result).splitlines()[-2:] == [
        "error: east: certificate 'cl-dataplane' expired on 2030-05-31 12:00 UTC: " + BY_HAND,
        "warning: east: certificate 'peer central' expires on 2030-06-13 12:00 UTC (in 12 days): "
        "`clusterfabric rotate-certificates --peer central`"]


def test_the_pr_comment_lists_them_under_certificates():
    result = FabricResult("preview", [], expiring=expiring("east", PUBLISHED, 30, NOW))
    text = render(result, load_fabric(Path("config")), set(), "main")
    section = text.split("### Certificates\n\n", 1)[1].split("\n\n", 1)[0]
    assert section.splitlines() == [
        "- **error** east: certificate 'cl-dataplane' expired on 2030-05-31 12:00 UTC: " + BY_HAND,
        "- **warning** east: certificate 'peer central' expires on 2030-06-13 12:00 UTC (in 12 days): "
        "`clusterfabric rotate-certificates --peer central`"]


def test_a_preview_of_chosen_stacks_reads_the_certificate_dates_of_those_and_of_the_ca_owner_only(monkeypatch):
    """The owner dates the fabric CA and every peer's certificate; reading every ClusterLink stack (a CLI call each)
    made one cluster's pull-request comment grow with the fabric."""
    from clusterfabric import Fabric
    from clusterfabric.toolchain import PROJECT_DIR

    read: set[str] = set()
    monkeypatch.setattr(Fabric, "_scheduled", lambda self, run, order, waits: {
        s: StackResult(s, "preview", "succeeded") for s in order})  # no engine: only what the run reads around it
    monkeypatch.setattr(Fabric, "deployed_outputs", lambda self, stack, run=None: read.add(stack))
    Fabric(PROJECT_DIR / "config").preview(["central"])
    assert read == {"east", "central"}  # east: the CA owner; west, the third ClusterLink stack, not read
