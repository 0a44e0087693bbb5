"""Where a ClusterLink stack gets its fabric certificates: the CA owner (the fabric's first ClusterLink cluster)
issues them at the rotation state it records, or at the next one when the fabric layer asks
(components/model/rotation.py); every other stack reads them, with that state, from the owner's outputs."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pulumi

from ..component import unknown
from ..model.certificates import CertificateSettings
from ..model.rotation import ROTATION_ENV, RotationState
from .certificates import FabricCertificates


@dataclass
class PeerTrust:
    """What one peer deploys (the CA bundle, its certificate and key) and what its stack publishes of them."""

    ca_bundle: Any
    cert: Any
    key: Any
    rotation: RotationState
    """The rotation state these certificates are at."""
    bundle: Any = None
    """The owner's `fabricCertificates` output (None elsewhere)."""
    expiry: dict[str, Any] | None = None
    """The owner's fabric certificates' notAfter dates (None elsewhere)."""


def requested(recorded: RotationState) -> RotationState:
    """The state this run is to reach: the one the fabric layer asks for (ROTATION_ENV), if it follows `recorded`;
    else `recorded`, so that any other run keeps the phase the state records."""
    asked = os.environ.get(ROTATION_ENV)
    if not asked:
        return recorded
    state = RotationState.parse(json.loads(asked))
    if not state.follows(recorded):
        raise pulumi.RunError(f"the certificate rotation asked for ({state.describe()}, renewals {dict(state.renewals)})"
                              f" does not follow the one this stack records ({recorded.describe()}, renewals "
                              f"{dict(recorded.renewals)}): run `clusterfabric rotate-certificates` again")
    return state


def issued(name: str, fabric: str, peers: list[str], validity: CertificateSettings, cluster: str,
           recorded: RotationState) -> PeerTrust:
    """The CA owner's: every fabric certificate, issued in its stack."""
    state = requested(recorded)
    certs = FabricCertificates(name, fabric, peers, validity, state)
    own = certs.peers[cluster]
    return PeerTrust(certs.trusted, own.cert_pem, own.key_pem, state, certs.bundle(), certs.expiry())


def read(bundle: pulumi.Output[Any], owner: str, cluster: str, recorded: RotationState, *,
         planned: bool = False) -> PeerTrust:
    """Another peer's: its certificate from the owner's `fabricCertificates` output. `planned`: the owner was
    previewed in this run (a preview of a change adding this peer), so a certificate it has not issued yet is
    what that change's `up` will issue: not known until then."""
    def own(b: Any, part: str) -> Any:
        if not b or cluster not in b.get("peers", {}):
            if planned:
                return unknown()
            raise pulumi.RunError(f"stack {owner!r} (the fabric CA's owner) has no certificate for peer {cluster!r} "
                                  f"yet: run `pulumi up` on {owner!r} first")
        return b["peers"][cluster][part]

    return PeerTrust(bundle.apply(lambda b: b["ca"] if b else None), bundle.apply(lambda b: own(b, "cert")),
                     bundle.apply(lambda b: own(b, "key")), recorded)
