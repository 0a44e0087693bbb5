"""The fabric's certificates over time: how long they are issued for (fabric.yaml `certificates:`), when the deployed
ones expire, and what renews each.

The program issues the certificates (components/clusterlink/certificates.py) and publishes each one's notAfter,
not secret, in the stack output `certificateExpiry`; the fabric layer reads those dates to warn. Pure: no pulumi.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Mapping

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
    """`preview`, the PR comment and `validate --deployed` warn this many days before a certificate expires."""
    propagationSeconds: Annotated[int, Field(ge=0, le=3600)] = 120
    """How long `rotate-certificates` waits after each phase for the new Secrets to reach the running pods: the
    kubelet updates a mounted Secret within its sync period (60 s) plus its cache's delay."""


# --- names, as the stacks publish them and the warnings print them -------------------------------------------

FABRIC_CA = "fabric CA"
CLUSTER_CERTIFICATES = ("cl-ca", "cl-controlplane", "cl-dataplane")
"""A cluster's own CA and the two certificates it signs, named as their Secrets."""


def fabric_ca_name(generation: int) -> str:
    """The fabric CA of a rollover generation: `fabric CA`, then `fabric CA 2`, `fabric CA 3`..."""
    return FABRIC_CA if generation == 0 else f"{FABRIC_CA} {generation + 1}"


def peer_certificate_name(peer: str) -> str:
    return f"peer {peer}"


def renewal(certificate: str) -> str:
    """How `certificate` is replaced."""
    if certificate.startswith(FABRIC_CA):
        return "`clusterfabric rotate-certificates --fabric-ca`"
    if certificate.startswith("peer "):
        return f"`clusterfabric rotate-certificates --peer {certificate.removeprefix('peer ')}`"
    # ClusterLink reads these once, at start: replacing them restarts the platform, which no command does yet.
    return "replace the cluster's own certificates by hand (docs/clusterlink-platform.md, \"Certificates over time\")"


# --- expiry ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expiry:
    """A deployed certificate that expires within the warning window, or has expired (an error)."""

    stack: str
    certificate: str
    not_after: datetime.datetime
    days_left: int

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def __str__(self) -> str:
        date = self.not_after.strftime("%Y-%m-%d %H:%M UTC")
        when = (f"expired on {date}" if self.expired else
                f"expires on {date} (in {self.days_left} day{'' if self.days_left == 1 else 's'})")
        return f"{self.stack}: certificate {self.certificate!r} {when}: {renewal(self.certificate)}"


def expiring(stack: str, published: Mapping[str, str], warning_days: int, now: datetime.datetime) -> list[Expiry]:
    """The certificates of `stack`'s `certificateExpiry` output (name -> ISO notAfter) that expire within
    `warning_days` of `now`, soonest first."""
    found = []
    for name, text in published.items():
        if text is None:  # not a certificate: an offline plan's placeholder
            continue
        not_after = datetime.datetime.fromisoformat(text)
        left = not_after - now
        if left <= datetime.timedelta(days=warning_days):
            found.append(Expiry(stack, name, not_after, left.days))
    return sorted(found, key=lambda e: e.not_after)


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
