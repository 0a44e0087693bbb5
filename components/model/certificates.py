"""The fabric's certificates over time: how long they are issued for (fabric.yaml `certificates:`).

The program issues the certificates (components/clusterlink/certificates.py). Pure: no pulumi.
"""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from .errors import Problem
from .kubernetes import Strict

LAST_DAY = datetime.date(9999, 12, 31)
"""The last notAfter an X.509 certificate can carry (RFC 5280's GeneralizedTime)."""


def _within_x509_dates(days: int) -> int:
    if days > (LAST_DAY - datetime.date.today()).days:
        raise ValueError(f"{days} days from today is past {LAST_DAY}, the last date a certificate can carry")
    return days


ValidityDays = Annotated[int, Field(ge=1), AfterValidator(_within_x509_dates)]


class CertificateSettings(Strict):
    """`certificates:` in fabric.yaml. Validity applies to certificates issued from then on (first `up`, renewal,
    rotation): a certificate keeps the dates it was issued with."""

    caValidityDays: ValidityDays = 3650
    """The fabric CA and each cluster's own CA (`cl-ca`)."""
    validityDays: ValidityDays = 1825
    """Each peer's certificate, and each cluster's control-plane and data-plane certificates."""
    expiryWarningDays: Annotated[int, Field(ge=0)] = 30
    """How many days before a certificate expires to warn."""
    propagationSeconds: Annotated[int, Field(ge=0, le=3600)] = 120
    """How long `rotate-certificates` waits after each phase for the new Secrets to reach the running pods: the
    kubelet updates a mounted Secret within its sync period (60 s) plus its cache's delay."""


FABRIC_CA = "fabric CA"


def fabric_ca_name(generation: int) -> str:
    """The fabric CA of a rollover generation: `fabric CA`, then `fabric CA 2`, `fabric CA 3`..."""
    return FABRIC_CA if generation == 0 else f"{FABRIC_CA} {generation + 1}"


def settings_warnings(settings: CertificateSettings, fabric_file: str) -> list[Problem]:
    """What the validity settings would do that nothing refuses, but nobody wants."""
    warnings = []
    if settings.expiryWarningDays >= settings.validityDays:
        warnings.append(Problem(fabric_file, "-", "certificates.expiryWarningDays",
                                f"{settings.expiryWarningDays} days is not less than validityDays "
                                f"({settings.validityDays}): every certificate would be warned about from the day "
                                "it is issued"))
    if settings.validityDays > settings.caValidityDays:
        warnings.append(Problem(fabric_file, "-", "certificates.validityDays",
                                f"{settings.validityDays} days is longer than caValidityDays "
                                f"({settings.caValidityDays}): a certificate stops being trusted when its CA expires, "
                                "whatever its own date"))
    return warnings
