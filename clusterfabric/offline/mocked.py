"""What a resource gets under Pulumi's mocks: ids and ARNs shaped like the real ones, inputs as the manifests wrote them.

Shared by the offline plan and the tests' mocks. It imports nothing of the program (`components`): the tests run
older releases' programs under these same mocks.
"""

from __future__ import annotations

import hashlib
from typing import Any

PLACEHOLDER = "(issued at deploy time)"

# Resource type -> (id prefix, ARN resource kind) for the Lattice objects that have ARNs.
LATTICE_IDS = {
    "aws:vpclattice/serviceNetwork:ServiceNetwork": ("sn", "servicenetwork"),
    "aws:vpclattice/service:Service": ("svc", "service"),
    "aws:vpclattice/targetGroup:TargetGroup": ("tg", "targetgroup"),
    "aws:vpclattice/listener:Listener": ("listener", "listener"),
    "aws:vpclattice/listenerRule:ListenerRule": ("rule", "rule"),
    "aws:vpclattice/serviceNetworkVpcAssociation:ServiceNetworkVpcAssociation": ("snva", "servicenetworkvpcassociation"),
    "aws:vpclattice/serviceNetworkServiceAssociation:ServiceNetworkServiceAssociation": ("snsa", "servicenetworkserviceassociation"),
}


RESOURCE_SHARE = "aws:ram/resourceShare:ResourceShare"
"""A RAM resource share: its id is its ARN, as AWS's provider has it."""


def _fake_id(prefix: str, name: str) -> str:
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:17]}"


def mocked_resource(typ: str, name: str, inputs: dict[str, Any], stack: str, region: str, account: str,
                    certificate: str = PLACEHOLDER, key: str = PLACEHOLDER) -> tuple[str, dict[str, Any]]:
    """The id and outputs a mocked resource gets: ids and ARNs shaped like the real ones for Lattice objects,
    placeholders for a certificate and its key (nothing is issued offline), the inputs for the rest."""
    outputs = dict(inputs)
    resource_id = f"{name}-id"
    if typ in LATTICE_IDS:
        prefix, kind = LATTICE_IDS[typ]
        resource_id = _fake_id(prefix, f"{stack}/{name}")
        outputs["arn"] = f"arn:aws:vpc-lattice:{region}:{account}:{kind}/{resource_id}"
        if prefix == "listener":
            outputs["listener_id"] = resource_id
        if prefix == "svc":
            outputs["dnsEntries"] = dns_entries(inputs.get("name"), resource_id, region)
    elif typ == RESOURCE_SHARE:
        share = hashlib.sha256(f"{stack}/{name}".encode()).hexdigest()
        resource_id = outputs["arn"] = (f"arn:aws:ram:{region}:{account}:resource-share/{share[:8]}-{share[8:12]}-"
                                        f"{share[12:16]}-{share[16:20]}-{share[20:32]}")
    elif typ == "pulumi-python:dynamic:Resource":
        outputs.update(cert_pem=certificate, key_pem=key)
    return resource_id, outputs


def dns_entries(name: Any, service_id: str, region: str) -> list[dict[str, str]]:
    """The DNS name Lattice gives a service (`<name>-<part of its id>.<id>.vpc-lattice-svcs.<Region>.on.aws`)."""
    return [{"domainName": f"{name}-{service_id[4:11]}.{service_id[4:]}.vpc-lattice-svcs.{region}.on.aws",
             "hostedZoneId": "Z" + service_id[4:17].upper()}]


def whole_numbers(value: Any) -> Any:
    """`value` with every whole float as an int. Mocks see inputs as the engine would, after protobuf, where every
    number is a float: a port of 8832 arrives as 8832.0, and a plan must show it as the manifest wrote it.
    A copy, on purpose, of components.model.validation.whole_numbers and its walk (components.model.json_values):
    this module imports nothing of the program, as the tests run older releases' programs under these mocks."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value
