"""The fabric's certificates, issued by the program and kept only as Pulumi secrets.

No TLS provider plugin can be had on these machines, so issuing is a Pulumi
dynamic resource using `cryptography`: the key is made once, at create, and
lives in the stack's state as a secret output; later runs read it back, so no
`up` makes a new key unless the certificate's subject changes (then it is
replaced, as a new identity must be).
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

CA_YEARS = 10
PEER_YEARS = 5
SECRET_OUTPUTS = ["key_pem"]


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pem(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def issue(name: str, years: int, is_ca: bool, issuer_cert_pem: str | None, issuer_key_pem: str | None, *,
          dns_names: list[str] | None = None, ip_addresses: list[str] | None = None,
          organization: str | None = None) -> dict[str, str]:
    """A certificate for `name` (CN, and DNS SAN unless `dns_names` says otherwise), self-signed when no
    issuer is given. The local control plane uses the extra names: IP SANs for its loopback API server, and
    an organization, which Kubernetes reads as a client certificate's group."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]
                        + ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []))
    if issuer_cert_pem and issuer_key_pem:
        issuer = x509.load_pem_x509_certificate(issuer_cert_pem.encode())
        signer = serialization.load_pem_private_key(issuer_key_pem.encode(), password=None)
        issuer_name = issuer.subject
    else:
        signer, issuer_name = key, subject
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        alternative_names = ([x509.DNSName(n) for n in (dns_names if dns_names is not None else [name])]
                             + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses or []])
        if alternative_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        builder = (
            builder.add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=False,
                                         crl_sign=False, content_commitment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
        )
    cert = builder.sign(signer, hashes.SHA256())
    return {"cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(), "key_pem": _pem(key)}


class _CertificateProvider(ResourceProvider):
    """Issues on create; keeps the certificate while its subject and issuer stay the same."""

    # Inputs whose change means a new identity (and so a new key).
    IDENTITY = ("name", "is_ca", "issuer_cert_pem")

    def create(self, props: dict[str, Any]) -> CreateResult:
        issued = issue(props["name"], int(props["years"]), bool(props["is_ca"]),
                        props.get("issuer_cert_pem"), props.get("issuer_key_pem"))
        outs = {k: v for k, v in props.items() if k != "issuer_key_pem"}
        fingerprint = hashlib.sha256(issued["cert_pem"].encode()).hexdigest()[:16]
        return CreateResult(id_=f"{props['name']}-{fingerprint}", outs={**outs, **issued})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in self.IDENTITY if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class Certificate(Resource):
    """An X.509 certificate and its private key (a secret output)."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]

    def __init__(self, name: str, common_name: str, *, is_ca: bool = False,
                 issuer: "Certificate | None" = None, opts: pulumi.ResourceOptions | None = None):
        props = {
            "name": common_name,
            "is_ca": is_ca,
            "years": CA_YEARS if is_ca else PEER_YEARS,
            "issuer_cert_pem": issuer.cert_pem if issuer else None,
            "issuer_key_pem": pulumi.Output.secret(issuer.key_pem) if issuer else None,
            "cert_pem": None,
            "key_pem": None,
        }
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(_CertificateProvider(), name, props, opts)


class FabricCertificates(pulumi.ComponentResource):
    """The fabric CA and one certificate per ClusterLink peer, owned by one stack."""

    ca: Certificate
    peers: dict[str, Certificate]

    def __init__(self, name: str, fabric: str, peers: list[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:clusterlink:FabricCertificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ca = Certificate(f"{name}-ca", f"{fabric} fabric CA", is_ca=True, opts=child)
        self.peers = {peer: Certificate(f"{name}-{peer}", peer, issuer=self.ca, opts=child) for peer in peers}
        self.register_outputs({"ca": self.ca.cert_pem, "peers": sorted(self.peers)})

    def bundle(self) -> pulumi.Output[dict[str, Any]]:
        """What the other stacks read: the CA certificate and each peer's certificate and key (secret)."""
        return pulumi.Output.secret({
            "ca": self.ca.cert_pem,
            "peers": {p: {"cert": c.cert_pem, "key": c.key_pem} for p, c in self.peers.items()},
        })
