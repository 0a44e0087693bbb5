"""Certificates over time: fabric.yaml's validity settings."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509

from clusterfabric.components.clusterlink.certificates import issue
from clusterfabric.components.model.certificates import CertificateSettings
from tests.unit.edited_fabric import edit, lines, warning_lines


def with_certificates(fabric: Path, settings: str) -> None:
    edit(fabric, "fabric.yaml", "name: example\n", f"name: example\ncertificates: {settings}\n")


def test_certificates_are_issued_for_ten_and_five_years_unless_fabric_yaml_says_otherwise():
    settings = CertificateSettings()
    assert (settings.caValidityDays, settings.validityDays, settings.expiryWarningDays) == (3650, 1825, 30)


def test_a_validity_of_zero_days_is_refused(fabric: Path):
    with_certificates(fabric, "{validityDays: 0}")
    assert lines(fabric) == ["fabric.yaml: Fabric: certificates.validityDays: Input should be greater than or "
                             "equal to 1"]


def test_a_validity_past_the_last_date_a_certificate_can_carry_is_refused(fabric: Path):
    with_certificates(fabric, "{caValidityDays: 3000000}")
    assert lines(fabric) == ["fabric.yaml: Fabric: certificates.caValidityDays: 3000000 days from today is past "
                             "9999-12-31, the last date a certificate can carry"]


def test_a_warning_window_as_long_as_the_validity_is_a_warning(fabric: Path):
    with_certificates(fabric, "{validityDays: 30, expiryWarningDays: 30}")
    assert "fabric.yaml: -: certificates.expiryWarningDays: 30 days is not less than validityDays (30): every " \
           "certificate would be warned about from the day it is issued" in warning_lines(fabric)


def test_a_certificate_outliving_its_ca_is_a_warning(fabric: Path):
    with_certificates(fabric, "{caValidityDays: 365, validityDays: 400}")
    assert "fabric.yaml: -: certificates.validityDays: 400 days is longer than caValidityDays (365): a certificate " \
           "stops being trusted when its CA expires, whatever its own date" in warning_lines(fabric)


def test_a_certificate_is_issued_for_the_days_given():
    cert = x509.load_pem_x509_certificate(issue("east", 10, False, None, None)["cert_pem"].encode())
    assert (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days == 9
